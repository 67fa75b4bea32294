"""Each commons group as an ActivityPub `Group` actor on its node (`@slug@domain`).

A group actor has its own key pair (made on first need, stored in `group_keys` like the
node's, never regenerated), its own followers (`group_followers`) and outbox
(`group_outbox`, rows of the federation outbox). Fediverse accounts follow one group and
get only that group's assets; followers of the node keep getting every asset. Follows of a
group are accepted at once (blocked domains rejected), the Accept signed with the group's key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation import activities, documents, keys
from federation.actors import RemoteActor
from federation.httpsig import CavageAuth
from federation.keys import NodeKeys
from federation.outbox import publish
from federation.tables import outbox
from federation.upserts import insert_new, upsert
from registry.core import db, iris
from registry.core.iris import group_iri
from registry.core.node_keys import ED25519, RSA
from registry.core.schema import group_followers, group_keys, group_outbox, groups
from registry.fediverse.identity import NodeIdentity
from vocab.htmltext import escape_text

ACCEPTED, REJECTED = "accepted", "rejected"
# The RSA key of an actor a group was on a node that died, held here to move its followers
# (registry/fediverse/former_actors.py); a row of `group_keys` of the group it became.
FORMER_RSA = "former-rsa"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@dataclass(frozen=True)
class GroupActor:
    """One group's actor: its IRIs, keys and documents."""

    node: NodeIdentity
    group_id: int
    slug: str
    name: str
    created: datetime
    keys: NodeKeys
    also_known_as: tuple[str, ...] = ()  # the actors it was, on the nodes it moved from
    moved_to: str | None = None  # the actor it became, when it moved away from here

    @property
    def iri(self) -> str:
        return group_iri(self.node.base, self.slug)

    @property
    def key_id(self) -> str:
        return f"{self.iri}#main-key"

    @property
    def followers(self) -> str:
        return f"{self.iri}/followers"

    @property
    def handle(self) -> str:
        return f"{self.slug}@{self.node.settings.domain}"

    def signer(self) -> CavageAuth:
        return CavageAuth(self.key_id, self.keys.rsa_private_key)

    def actor_document(self) -> dict[str, Any]:
        fed = self.node.settings.federation
        return documents.actor_document(
            actor_iri=self.iri,
            actor_type="Group",
            preferred_username=self.slug,
            name=self.name,
            summary=escape_text(
                f"{self.name}: a commons group on {self.node.settings.node.name}. "
                "Follow it to get its assets."
            ),
            url=self.iri,
            icon=self.node.icon,
            rsa_public_pem=self.keys.rsa_public_pem,
            ed25519_multikey=self.keys.ed25519_multikey,
            inbox=f"{self.iri}/inbox",
            outbox=f"{self.iri}/outbox",
            followers=self.followers,
            following=f"{self.iri}/following",
            shared_inbox=self.node.shared_inbox,
            discoverable=fed.discoverable,
            indexable=fed.indexable,
            published=self.created,
            also_known_as=self.also_known_as,
            moved_to=self.moved_to,
            extra={"attributedTo": self.node.actor_iri},
        )

    def webfinger(self) -> dict[str, Any]:
        return documents.webfinger_jrd(f"acct:{self.handle}", [self.iri], self.iri, self.iri)


def slug_in(base: str, iri: str | None) -> str | None:
    """The slug of a group actor IRI of this node (`{base}/groups/{slug}`), else None."""
    prefix = iris.group_iri(base, "")
    if not iri or not iri.startswith(prefix):
        return None
    slug = iri[len(prefix) :]
    return slug if slug and "/" not in slug and "#" not in slug and "?" not in slug else None


def new_activity_id(base: str) -> str:
    return iris.activity(base, uuid.uuid4().hex)


async def keys_of(engine: AsyncEngine, group_id: int) -> NodeKeys:
    """The group's keys, made the first time anyone needs them (insert-if-absent, so two
    processes that race keep the same pair)."""
    query = select(group_keys.c.name, group_keys.c.private_pem).where(
        group_keys.c.group_id == group_id
    )
    async with db.read(engine) as conn:
        pems = {row.name: row.private_pem for row in await conn.execute(query)}
    if RSA not in pems or ED25519 not in pems:
        made = {RSA: keys.generate_rsa_private_pem(), ED25519: keys.generate_ed25519_private_pem()}
        async with db.write(engine) as conn:
            for name, pem in made.items():
                values = {
                    "group_id": group_id,
                    "name": name,
                    "private_pem": pem,
                    "created_at": datetime.now(UTC),
                }
                await insert_new(conn, group_keys, values, ["group_id", "name"])
            pems = {row.name: row.private_pem for row in await conn.execute(query)}
    return NodeKeys.from_pems(rsa_private_pem=pems[RSA], ed25519_private_pem=pems[ED25519])


class GroupActors:
    """The node's group actors, found by slug, id or IRI; keys cached (they never change)."""

    def __init__(self, engine: AsyncEngine, node: NodeIdentity) -> None:
        self.engine = engine
        self.node = node
        self._keys: dict[int, NodeKeys] = {}

    async def _actor(self, condition: Any) -> GroupActor | None:
        async with db.read(self.engine) as conn:
            row = (await conn.execute(select(groups).where(condition))).first()
        if row is None or row.slug == self.node.settings.node.handle:
            return None  # the node's own handle names the node, never a group
        if row.suspended_at is not None and row.moved_to is None:
            return None
        # A group that moved away stays an actor here: its document names where it went
        # (`movedTo`) and its key signs the Move and stays there for checking it.
        if row.id not in self._keys:
            self._keys[row.id] = await keys_of(self.engine, row.id)
        return GroupActor(
            self.node,
            row.id,
            row.slug,
            row.name,
            _utc(row.created_at),
            self._keys[row.id],
            tuple(orjson.loads(row.also_known_as)) if row.also_known_as else (),
            row.moved_to,
        )

    async def by_slug(self, slug: str) -> GroupActor | None:
        return await self._actor(groups.c.slug == slug)

    async def by_iri(self, iri: str | None) -> GroupActor | None:
        slug = slug_in(self.node.base, iri)
        return await self.by_slug(slug) if slug else None

    async def signer_for(self, body: bytes) -> httpx.Auth | None:
        """Who signs a delivery: the group whose actor the activity names, or the former
        actor on another node whose key a group here holds, else the node."""
        try:
            actor = orjson.loads(body).get("actor")
        except (orjson.JSONDecodeError, AttributeError):
            return None
        if not isinstance(actor, str):
            return None
        group = await self.by_iri(actor)
        if group is not None:
            return group.signer()
        if actor.startswith(self.node.base + "/"):
            return None  # the node's own actor (one lookup less on the common path)
        return await self._former_signer(actor)

    async def _former_signer(self, actor: str) -> httpx.Auth | None:
        query = (
            select(groups.c.also_known_as, group_keys.c.private_pem)
            .join(group_keys, group_keys.c.group_id == groups.c.id)
            .where(group_keys.c.name == FORMER_RSA, groups.c.also_known_as.is_not(None))
        )
        async with db.read(self.engine) as conn:
            for row in await conn.execute(query):
                if actor in orjson.loads(row.also_known_as):
                    return CavageAuth(
                        f"{actor}#main-key", keys.load_private_key_pem(row.private_pem)
                    )
        return None


# -- followers -------------------------------------------------------------------------------


async def record_follower(
    conn: AsyncConnection, group_id: int, actor: RemoteActor, follow_id: str, state: str
) -> None:
    if not actor.inbox:
        raise ValueError(f"{actor.iri} has no inbox")
    await upsert(
        conn,
        group_followers,
        {"group_id": group_id, "actor": actor.iri},
        {
            "host": actor.host,
            "inbox": actor.inbox,
            "shared_inbox": actor.shared_inbox,
            "follow_id": follow_id,
            "state": state,
            "created_at": datetime.now(UTC),
        },
    )


async def remove_follower(
    conn: AsyncConnection,
    actor_iri: str,
    *,
    group_id: int | None = None,
    follow_id: str | None = None,
) -> bool:
    """Undo(Follow) of a group: by group, or by the Follow's id when only that is named."""
    condition = group_followers.c.actor == actor_iri
    if group_id is not None:
        condition &= group_followers.c.group_id == group_id
    if follow_id is not None:
        condition &= group_followers.c.follow_id == follow_id
    return bool((await conn.execute(delete(group_followers).where(condition))).rowcount)


async def follower_inboxes(conn: AsyncConnection, group_id: int) -> list[str]:
    """Where the group's activities go: one (shared) inbox per server."""
    rows = await conn.execute(
        select(func.coalesce(group_followers.c.shared_inbox, group_followers.c.inbox))
        .where(group_followers.c.group_id == group_id, group_followers.c.state == ACCEPTED)
        .distinct()
    )
    return sorted(row[0] for row in rows)


async def follower_records(conn: AsyncConnection, group_id: int) -> list[dict[str, str]]:
    """The group's accepted followers as its archive lists them (id, inbox, shared inbox)."""
    rows = await conn.execute(
        select(group_followers.c.actor, group_followers.c.inbox, group_followers.c.shared_inbox)
        .where(group_followers.c.group_id == group_id, group_followers.c.state == ACCEPTED)
        .order_by(group_followers.c.id)
    )
    return [
        {
            "id": r.actor,
            "inbox": r.inbox,
            **({"sharedInbox": r.shared_inbox} if r.shared_inbox else {}),
        }
        for r in rows
    ]


async def follower_page(
    conn: AsyncConnection, group_id: int, after_id: int | None, limit: int
) -> tuple[list[str], int | None]:
    query = select(group_followers.c.id, group_followers.c.actor).where(
        group_followers.c.group_id == group_id, group_followers.c.state == ACCEPTED
    )
    if after_id is not None:
        query = query.where(group_followers.c.id > after_id)
    rows = list(await conn.execute(query.order_by(group_followers.c.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return [row.actor for row in rows], rows[-1].id if more and rows else None


async def follower_total(conn: AsyncConnection, group_id: int) -> int:
    query = select(func.count()).where(
        group_followers.c.group_id == group_id, group_followers.c.state == ACCEPTED
    )
    return int((await conn.execute(query)).scalar_one())


# -- outbox ----------------------------------------------------------------------------------


async def publish_as_group(
    conn: AsyncConnection,
    group_id: int,
    activity: dict[str, Any],
    inboxes: list[str],
    *,
    listed: bool,
) -> int:
    """Store a group actor's activity and its deliveries in the caller's transaction. The
    node's outbox collection does not list it (`public=False`); the group's does when listed."""
    outbox_id = await publish(conn, activity, inboxes, public=False)
    await conn.execute(
        group_outbox.insert().values(outbox_id=outbox_id, group_id=group_id, listed=listed)
    )
    return outbox_id


async def outbox_page(
    conn: AsyncConnection, group_id: int, before_id: int | None, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    query = (
        select(outbox.c.id, outbox.c.body)
        .join(group_outbox, group_outbox.c.outbox_id == outbox.c.id)
        .where(group_outbox.c.group_id == group_id, group_outbox.c.listed)
        .order_by(outbox.c.id.desc())
        .limit(limit + 1)
    )
    if before_id is not None:
        query = query.where(outbox.c.id < before_id)
    rows = list(await conn.execute(query))
    page = rows[:limit]
    cursor = page[-1].id if len(rows) > limit and page else None
    return [orjson.loads(row.body) for row in page], cursor


async def outbox_total(conn: AsyncConnection, group_id: int) -> int:
    query = select(func.count()).where(group_outbox.c.group_id == group_id, group_outbox.c.listed)
    return int((await conn.execute(query)).scalar_one())


async def group_named(
    conn: AsyncConnection, node: NodeIdentity, iri: str | None, *, moved_too: bool = False
) -> Any:
    """The (id, slug) row of the live group an IRI names, read in the caller's transaction;
    with `moved_too`, also of a group that moved away (its followers may still leave it)."""
    slug = slug_in(node.base, iri)
    if slug is None or slug == node.settings.node.handle:
        return None
    live = groups.c.suspended_at.is_(None)
    if moved_too:
        live = live | groups.c.moved_to.is_not(None)
    query = select(groups.c.id, groups.c.slug).where(groups.c.slug == slug, live)
    return (await conn.execute(query)).first()


async def answer_follow(
    conn: AsyncConnection,
    node: NodeIdentity,
    group: Any,
    follow: dict[str, Any],
    actor: RemoteActor,
    state: str,
) -> None:
    """Record the follow of a group and send the group's Accept (or Reject), durably; the
    delivery is signed with the group's key (`GroupActors.signer_for`)."""
    await record_follower(conn, group.id, actor, follow["id"], state)
    build = activities.accept if state == ACCEPTED else activities.reject
    answer = build(
        id=new_activity_id(node.base), actor=group_iri(node.base, group.slug), object=follow
    )
    await publish_as_group(conn, group.id, answer, [actor.inbox or ""], listed=False)
