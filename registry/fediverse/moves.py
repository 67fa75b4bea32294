"""Groups that move between nodes, seen from each of the three sides.

- The new node *adopts* a group (from its archive, portability.py, or from partners'
  copies with a key claim, claims.py): the group and its assets are created under
  new IRIs, each asset naming its old IRI in `alsoKnownAs`, and the old -> new mapping is
  kept (`moved_assets`, role `imported`) and written out signed by the new node.
- The old node, given that signed mapping, *moves out*: its copies of the group's assets
  become tombstones that answer with the new IRI (role `origin`; http/activitypub/moved.py),
  the group is suspended, and followers and partners get one `Move` per asset (FEP-7628:
  `object` the old IRI, `target` the new one, which must name the old in `alsoKnownAs`).
  The group actor itself stays, naming its new actor in `movedTo`, and moves its followers
  as a fediverse account moves (FEP-7628, Mastodon): one `Move` of itself, signed with its
  own key, to its followers, whose servers then follow the new group actor, which names the
  old one in `alsoKnownAs`.
- A partner *re-keys* its copy (role `copy`; registry/fediverse/rekeying.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import vocab
from federation import activities, proofs
from federation.follows import follower_inboxes
from federation.hosts import host_of
from federation.outbox import publish
from registry.catalog import store as asset_store
from registry.catalog.assets import AssetChange, AssetService
from registry.catalog.store import next_change_seq
from registry.config import Settings
from registry.core import db, iris
from registry.core.errors import Conflict, Unprocessable
from registry.core.schema import (
    LOCAL,
    PENDING,
    PUBLISHED,
    REJECTED,
    assets,
    groups,
    members,
    moved_assets,
    partners,
)
from registry.fediverse import group_actors
from registry.fediverse.portability import (
    ARCHIVE_CONTEXT,
    ArchiveError,
    GroupRules,
    group_iri,
    proof_key_id,
)
from registry.people import admin_log
from registry.people.members import USERNAME
from vocab.times import as_utc, iso, utcnow

ORIGIN, IMPORTED, COPY = "origin", "imported", "copy"
UNUSABLE_PASSWORD = "!"  # not an argon2 hash: nobody can sign in until an admin sets one


@dataclass(frozen=True)
class AdoptItem:
    old_iri: str
    record: vocab.AssetRecord
    published: datetime
    moderation: str
    aliases: tuple[str, ...] = ()  # IRIs the asset had before the old one


@dataclass(frozen=True)
class Adopted:
    slug: str
    pairs: list[tuple[str, str]]  # (old IRI, new IRI)
    members: list[str]  # usernames recreated (disabled, without passwords)
    skipped_members: list[str]  # usernames already taken here


async def adopt(
    service: AssetService,
    *,
    slug: str,
    name: str,
    items: list[AdoptItem],
    people: list[dict[str, str]] = (),  # type: ignore[assignment]
    rules: GroupRules = GroupRules(),
) -> Adopted:
    """Create the group, its members and its assets here, in one transaction. `rules` carry
    the group's defaults and the actors it was (`alsoKnownAs` of its new actor)."""
    await service.load_keys()
    now = utcnow()
    async with db.write(service.engine) as conn:
        if (await conn.execute(select(groups.c.id).where(groups.c.slug == slug))).first():
            raise Conflict(f"a group {slug!r} exists here already: choose another with --slug")
        group_id = (
            await conn.execute(
                insert(groups)
                .values(
                    slug=slug,
                    name=name[:200],
                    created_at=now,
                    default_visibility=rules.default_visibility,
                    default_license=rules.default_license,
                    also_known_as=(
                        orjson.dumps(list(rules.also_known_as)).decode()
                        if rules.also_known_as
                        else None
                    ),
                )
                .returning(groups.c.id)
            )
        ).scalar_one()
        taken = {
            row.username
            for row in await conn.execute(
                select(members.c.username).where(
                    members.c.username.in_([p["username"] for p in people])
                )
            )
        }
        made = [
            p for p in people if p["username"] not in taken and USERNAME.fullmatch(p["username"])
        ]
        if made:
            await conn.execute(
                insert(members),
                [
                    {
                        "username": p["username"][:64],
                        "display_name": p.get("displayName", "")[:200],
                        "password_hash": UNUSABLE_PASSWORD,
                        "role": "group",
                        "group_id": group_id,
                        "created_at": now,
                        "disabled_at": now,
                    }
                    for p in made
                ],
            )
        seq = await next_change_seq(conn)
        rows = []
        for n, item in enumerate(items):
            state = (
                item.moderation if item.moderation in (PUBLISHED, PENDING, REJECTED) else PUBLISHED
            )
            rows.append(
                service.local_row(
                    item.record,
                    uid=asset_store.new_uid(),
                    group_id=group_id,
                    moderation=state,
                    created=item.published,
                    updated=max(now, as_utc(item.published)),
                    seq=seq + n,
                    also_known_as=(item.old_iri, *item.aliases),
                    group_slug=slug,
                )
            )
        ids = await asset_store.insert_assets(conn, rows)
        pairs = [(item.old_iri, row.iri) for item, row in zip(items, rows, strict=True)]
        await record_moves(conn, pairs, IMPORTED, slug)
        for asset_id, row in zip(ids, rows, strict=True):
            change = AssetChange(
                "create",
                asset_id,
                row.iri,
                row.document,
                row.moderation == PUBLISHED,
                now,
                "import",
                visibility=row.visibility,
                group_id=group_id,
            )
            await service.notify(conn, change)
    service.after_commit()
    return Adopted(slug, pairs, [p["username"] for p in made], sorted(taken))


async def record_moves(
    conn: AsyncConnection, pairs: list[tuple[str, str]], role: str, slug: str | None
) -> None:
    """Remember old -> new (the first record of an old IRI wins; later ones are ignored)."""
    if not pairs:
        return
    held = {
        row.old_iri
        for row in await conn.execute(
            select(moved_assets.c.old_iri).where(moved_assets.c.old_iri.in_([o for o, _ in pairs]))
        )
    }
    now = utcnow()
    fresh = [
        {"old_iri": old, "new_iri": new, "role": role, "group_slug": slug, "moved_at": now}
        for old, new in dict(pairs).items()
        if old not in held
    ]
    if fresh:
        await conn.execute(insert(moved_assets), fresh)


def mapping_document(
    key: ed25519.Ed25519PrivateKey,
    base: str,
    *,
    origin: str,
    old_slug: str,
    new_slug: str,
    pairs: list[tuple[str, str]],
    authorization: dict[str, Any] | None,
) -> dict[str, Any]:
    """The old -> new mapping, signed by this (the new) node, for the old node to act on."""
    doc: dict[str, Any] = {
        "@context": ARCHIVE_CONTEXT,
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": "commons:MoveMapping",
        "actor": iris.actor(base),
        "origin": origin,
        "object": group_iri(origin, old_slug),
        "target": group_iri(base, new_slug),
        "published": iso(utcnow()),
        "assets": [{"object": old, "target": new} for old, new in pairs],
    }
    if authorization is not None:
        doc["authorization"] = authorization
    return proofs.sign_object(doc, key, proof_key_id(base))


def read_mapping(doc: Any, *, origin: str) -> tuple[str, str, list[tuple[str, str]]]:
    """(old group IRI, new group IRI, pairs) of a mapping made for `origin` (no proof check:
    see `check_mapping_proof`)."""
    if not isinstance(doc, dict) or doc.get("type") != "commons:MoveMapping":
        raise ArchiveError("not a move mapping (made by `commons-registry group import`)")
    if doc.get("origin") != origin:
        raise ArchiveError(f"the mapping is for {doc.get('origin')!r}, not for this node")
    target, actor = doc.get("target"), doc.get("actor")
    if not isinstance(target, str) or not isinstance(actor, str):
        raise ArchiveError("the mapping names no target")
    target_host = host_of(target)
    pairs = []
    for entry in doc.get("assets") or []:
        old = entry.get("object") if isinstance(entry, dict) else None
        new = entry.get("target") if isinstance(entry, dict) else None
        if not (isinstance(old, str) and isinstance(new, str)):
            raise ArchiveError("a mapping entry lacks its object or target")
        if not old.startswith(origin + "/") or host_of(new) != target_host:
            raise ArchiveError(f"the mapping entry {old} -> {new} leaves its nodes")
        pairs.append((old, new))
    return str(doc.get("object")), target, pairs


def move_activity(
    node: Any, old: str, new: str, instrument: dict[str, Any] | None = None
) -> dict[str, Any]:
    """FEP-7628 `Move` of one object: `target` names `object` in its `alsoKnownAs`."""
    extra: dict[str, Any] = {"target": new}
    if instrument is not None:
        extra["instrument"] = instrument  # the signed authority of a node that is gone
    return activities.activity(
        "Move",
        id=node.new_activity_id(),
        actor=node.actor_iri,
        object=old,
        to=[activities.PUBLIC],
        cc=[node.followers],
        **extra,
    )


def group_move_activity(
    node: Any, old_group: str, new_group: str, *, activity_id: str | None = None
) -> dict[str, Any]:
    """The group actor's move of itself (an account move): `object` is the actor, `target`
    the new actor, which names it in `alsoKnownAs`; addressed to its followers."""
    return activities.activity(
        "Move",
        id=activity_id or node.new_activity_id(),
        actor=old_group,
        object=old_group,
        target=new_group,
        to=[f"{old_group}/followers"],
        cc=[activities.PUBLIC],
    )


async def announce(
    conn: AsyncConnection,
    node: Any,
    pairs: list[tuple[str, str]],
    instrument: dict[str, Any] | None = None,
) -> int:
    """One Move per asset to every follower (partners included), in the caller's transaction."""
    inboxes = await follower_inboxes(conn)
    for old, new in pairs:
        await publish(conn, move_activity(node, old, new, instrument), inboxes, public=True)
    return len(pairs)


async def move_out(
    engine: AsyncEngine, node: Any, slug: str, pairs: list[tuple[str, str]], target: str
) -> int:
    """Tombstone the group's assets here as moved, suspend the group, and send the Moves."""
    async with db.write(engine) as conn:
        group = (await conn.execute(select(groups).where(groups.c.slug == slug))).first()
        if group is None:
            raise Unprocessable(f"there is no group {slug!r}")
        live = {
            row.iri: row.id
            for row in await conn.execute(
                select(assets.c.iri, assets.c.id).where(
                    assets.c.group_id == group.id,
                    assets.c.origin == LOCAL,
                    assets.c.deleted_at.is_(None),
                )
            )
        }
        mapped = dict(pairs)
        strangers = [old for old in mapped if old not in live and not await _moved(conn, old)]
        if strangers:
            raise Unprocessable(
                f"{len(strangers)} mapped IRIs are not assets of {slug!r} here, e.g. {strangers[0]}"
            )
        missing = [iri for iri in live if iri not in mapped]
        if missing:
            raise Unprocessable(
                f"{len(missing)} assets of {slug!r} are not in the mapping, e.g. {missing[0]}: "
                "export and import the group again"
            )
        seq = await next_change_seq(conn)
        now = utcnow()
        await asset_store.mark_deleted_many(
            conn, [(live[old], seq + n) for n, old in enumerate(live)], now
        )
        todo = [(old, new) for old, new in pairs if old in live]
        await record_moves(conn, todo, ORIGIN, slug)
        await conn.execute(
            update(groups)
            .where(groups.c.id == group.id)
            .values(suspended_at=now, suspended_reason=f"moved to {target}", moved_to=target)
        )
        old_group = group_iri(node.base, slug)
        await admin_log.record(conn, "cli", "group-moved", old_group, f"to {target}: {len(todo)}")
        sent = await announce(conn, node, todo)
        await group_actors.publish_as_group(
            conn,
            group.id,
            group_move_activity(node, old_group, target),
            await group_actors.follower_inboxes(conn, group.id),
            listed=True,
        )
    return sent


async def _moved(conn: AsyncConnection, old: str) -> bool:
    return await moved_to(conn, old) is not None


async def moved_to(conn: AsyncConnection, iri: str) -> str | None:
    """The new IRI of one of our assets that moved away, if it did."""
    return (
        await conn.execute(
            select(moved_assets.c.new_iri).where(
                moved_assets.c.old_iri == iri, moved_assets.c.role == ORIGIN
            )
        )
    ).scalar()


async def unreachable_origins(engine: AsyncEngine, settings: Settings) -> dict[str, datetime]:
    """Partners (by host) whose syncs have failed for longer than the configured time."""
    limit = utcnow() - timedelta(hours=settings.mirror.unreachable_after_hours)
    async with db.read(engine) as conn:
        rows = await conn.execute(
            select(partners.c.host, partners.c.unreachable_since).where(
                partners.c.unreachable_since.is_not(None)
            )
        )
        return {
            r.host: as_utc(r.unreachable_since)
            for r in rows
            if as_utc(r.unreachable_since) <= limit
        }
