"""The asset service: create, change, delete and moderate the node's own assets.

Every change is one transaction that stores the document and its projections (through
`asset_store`) and tells the change listeners (the federation outbox) inside the same
transaction, so a change and its announcement are stored together or not at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import vocab
from federation import proofs
from registry.catalog import store as asset_store
from registry.catalog import visibility as visibility_rule
from registry.catalog.store import (
    AssetRow,
    StoredAsset,
    next_change_seq,
    next_version_time,
    select_assets,
    stored_from_row,
)
from registry.config import Settings
from registry.core import db, iris
from registry.core.errors import N_, Forbidden, Gone, NotFound, Unprocessable
from registry.core.iris import group_followers_iri
from registry.core.node_keys import load_node_keys
from registry.core.schema import LOCAL, PENDING, PUBLISHED, REJECTED, assets, groups, moderation_log
from registry.people.accounts import Principal
from vocab.times import as_utc, iso, utcnow


@dataclass(frozen=True)
class AssetChange:
    """What happened to an asset, for listeners that run inside the writing transaction."""

    action: str  # "create" | "update" | "delete"
    asset_id: int
    iri: str
    document: dict[str, Any]
    published: bool  # whether the change is public (moderation passed)
    at: datetime
    source: str = "api"  # "api" or "import"
    visibility: str = "public"  # who may see it now (registry.catalog.visibility)
    was: str | None = None  # who could see it before this change, when it was published
    group_id: int | None = None


ChangeListener = Callable[[AsyncConnection, AssetChange], Awaitable[None]]


@dataclass
class AssetService:
    engine: AsyncEngine
    settings: Settings
    listeners: list[ChangeListener] = field(default_factory=list)
    committed: list[Callable[[], None]] = field(default_factory=list)  # after each change
    proof_key: Ed25519PrivateKey | None = None

    # -- identities ---------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return self.settings.base_url

    def iri_for(self, uid: str) -> str:
        return iris.asset(self.base, uid)

    def document_for(
        self,
        record: vocab.AssetRecord,
        uid: str,
        published: datetime,
        updated: datetime,
        *,
        visibility: str = "public",
        group_slug: str | None = None,
    ) -> dict[str, Any]:
        iri = self.iri_for(uid)
        node_actor = iris.actor(self.base)
        followers = [iris.followers(self.base)]
        extra: dict[str, Any] = {}
        if group_slug is not None:
            # The group's followers are addressed too. The document stays attributed to the
            # node (servers require attributedTo to be the sending actor, and the node's
            # proof covers it); the group actor's own activities carry it attributed to the
            # group (registry.fediverse.publishing).
            followers.append(group_followers_iri(self.base, group_slug))
        extra.update(visibility_rule.addressing(visibility, followers))
        meta = vocab.AssetMeta(
            iri=iri,
            url=iri,
            attributed_to=node_actor,
            published=published,
            updated=updated,
            followers=followers[0],
            language=self.settings.node.default_language,
            extra=extra,
        )
        document = vocab.asset_document(record, meta, tag_base=iris.tags(self.base))
        if self.proof_key is None:
            raise RuntimeError("the node's keys are not loaded (call load_keys first)")
        # FEP-8b32: any node re-serving the document can show it came unaltered from here.
        return proofs.sign_object(
            document, self.proof_key, iris.proof_key_id(self.base), created=updated, owned=True
        )

    async def load_keys(self) -> None:
        """Load the node's Ed25519 key, which signs every local document, once."""
        if self.proof_key is None:
            self.proof_key = (await load_node_keys(self.engine)).ed25519_private_key

    def local_row(
        self,
        record: vocab.AssetRecord,
        *,
        uid: str,
        group_id: int | None,
        moderation: str,
        created: datetime,
        updated: datetime,
        seq: int,
        source_ref: str | None = None,
        visibility: str = "public",
        group_slug: str | None = None,
    ) -> AssetRow:
        return AssetRow(
            uid=uid,
            iri=self.iri_for(uid),
            origin=LOCAL,
            group_id=group_id,
            moderation=moderation,
            record=record,
            document=self.document_for(
                record, uid, created, updated, visibility=visibility, group_slug=group_slug
            ),
            created=created,
            updated=updated,
            seq=seq,
            source_ref=source_ref,
            visibility=visibility,
        )

    # -- reads --------------------------------------------------------------------------------

    async def get(
        self,
        uid: str,
        principal: Principal | None = None,
        *,
        include_deleted: bool = False,
        audience: visibility_rule.Audience | None = None,
        exported_only: bool = False,
    ) -> StoredAsset:
        """An asset the caller may see: published ones for everybody, the rest for its group;
        and only if its visibility lets the audience (by default the principal's) read it, or
        with `exported_only` only if it belongs in public exports."""
        audience = audience or visibility_rule.audience_of(principal)
        rule = visibility_rule.exported() if exported_only else visibility_rule.readable(audience)
        query = select_assets().add_columns(visibility_rule.as_flag(rule).label("readable"))
        async with db.read(self.engine) as conn:
            row = (await conn.execute(query.where(assets.c.uid == uid))).first()
        if row is None or not row.readable:
            raise NotFound(N_("there is no asset %(uid)s"), params={"uid": repr(uid)})
        if row.deleted_at is not None and not include_deleted:
            raise Gone(
                N_("the asset %(uid)s was deleted on %(when)s"),
                params={"uid": repr(uid), "when": iso(as_utc(row.deleted_at))},
            )
        asset = stored_from_row(row)
        if asset.moderation != PUBLISHED and not (
            principal is not None and principal.may_manage_group(asset.group_id)
        ):
            raise NotFound(N_("there is no asset %(uid)s"), params={"uid": repr(uid)})
        return asset

    # -- writes -------------------------------------------------------------------------------

    def _needs_approval(self, principal: Principal) -> bool:
        return self.settings.moderation.require_approval and not principal.is_admin

    async def _group_for(
        self, conn: AsyncConnection, principal: Principal, group_slug: str | None
    ) -> int | None:
        if group_slug is None or group_slug == principal.group_slug:
            if principal.group_id is None and not principal.is_admin:
                raise Forbidden("this token belongs to no group")
            return principal.group_id
        if not principal.is_admin:
            raise Forbidden(N_("a group token may only create assets for its own group"))
        query = select(groups.c.id).where(groups.c.slug == group_slug)
        found = (await conn.execute(query)).scalar()
        if found is None:
            raise Unprocessable(
                f"there is no group {group_slug!r}",
                errors=[{"field": "group", "message": "unknown group"}],
            )
        return found

    async def _group_rules(
        self, conn: AsyncConnection, group_id: int | None
    ) -> tuple[str | None, str, str | None]:
        """The group's slug, default visibility and default licence."""
        if group_id is None:
            return None, visibility_rule.PUBLIC, None
        query = select(groups.c.slug, groups.c.default_visibility, groups.c.default_license)
        row = (await conn.execute(query.where(groups.c.id == group_id))).first()
        if row is None:  # a dry run's group, not made yet
            return None, visibility_rule.PUBLIC, None
        return row.slug, row.default_visibility, row.default_license

    async def create(
        self,
        principal: Principal,
        data: Any,
        group_slug: str | None = None,
        visibility: str | None = None,
    ) -> StoredAsset:
        await self.load_keys()
        record = validate(data)
        now = utcnow()
        moderation = PENDING if self._needs_approval(principal) else PUBLISHED
        async with db.write(self.engine) as conn:
            group_id = await self._group_for(conn, principal, group_slug)
            slug, default_visibility, default_license = await self._group_rules(conn, group_id)
            visibility = visibility or default_visibility
            if record.license is None and default_license:  # the group's licence travels
                record = dataclasses.replace(record, license=default_license)
            row = self.local_row(
                record,
                uid=asset_store.new_uid(),
                group_id=group_id,
                moderation=moderation,
                created=now,
                updated=now,
                seq=await next_change_seq(conn),
                visibility=visibility,
                group_slug=slug,
            )
            [asset_id] = await asset_store.insert_assets(conn, [row])
            await self._notify(
                conn,
                AssetChange(
                    "create",
                    asset_id,
                    row.iri,
                    row.document,
                    moderation == PUBLISHED,
                    now,
                    visibility=visibility,
                    group_id=group_id,
                ),
            )
        self.after_commit()
        return await self.get(row.uid, principal)

    async def update(
        self,
        principal: Principal,
        uid: str,
        data: Any,
        *,
        partial: bool,
        visibility: str | None = None,
    ) -> StoredAsset:
        await self.load_keys()
        current = await self._managed(principal, uid)
        base_record = current.record
        if current.pending is not None:  # edits build on the newest submitted version
            base_record, _ = vocab.read_asset_document(current.pending)
        if partial and data == {} and visibility is not None:
            record = base_record  # only the visibility changes
        else:
            record = patch(base_record, data) if partial else validate(data)
        now = next_version_time(current.updated_at)
        async with db.write(self.engine) as conn:
            if current.moderation == PUBLISHED and self._needs_approval(principal):
                # The public version stays as it is until an admin approves the change.
                slug, _, _ = await self._group_rules(conn, current.group_id)
                pending = self.document_for(
                    record,
                    uid,
                    current.created_at,
                    now,
                    visibility=current.visibility,
                    group_slug=slug,
                )
                await asset_store.set_pending(conn, current.id, pending)
                if visibility is not None and visibility != current.visibility:
                    # Narrowing who sees it needs no approval; it is applied at once.
                    await self._store(
                        conn,
                        current,
                        current.record,
                        now,
                        current.moderation,
                        visibility=visibility,
                    )
                    await asset_store.set_pending(conn, current.id, pending)
            else:
                moderation = current.moderation
                if moderation == REJECTED:  # a fixed submission goes back into the queue
                    moderation = PENDING if self._needs_approval(principal) else PUBLISHED
                await self._store(conn, current, record, now, moderation, visibility=visibility)
        self.after_commit()
        return await self.get(uid, principal)

    async def delete(self, principal: Principal, uid: str) -> None:
        current = await self._managed(principal, uid)
        now = next_version_time(current.updated_at)
        async with db.write(self.engine) as conn:
            await asset_store.mark_deleted(conn, current.id, now, await next_change_seq(conn))
            await self._notify(conn, _deletion(current, now))
        self.after_commit()

    async def remove_group_assets(
        self, conn: AsyncConnection, group_id: int, *, forget_source: bool = False
    ) -> int:
        """Tombstone every live local asset of a group in the caller's transaction, telling the
        listeners (publishing, the changes feed) of each deletion as `delete` does."""
        seq = await next_change_seq(conn)  # first: on PostgreSQL it also orders us with writers
        rows = (
            await conn.execute(
                select_assets().where(
                    assets.c.group_id == group_id,
                    assets.c.origin == LOCAL,
                    assets.c.deleted_at.is_(None),
                )
            )
        ).all()
        if not rows:
            return 0
        now = utcnow()
        current = [stored_from_row(row) for row in rows]
        await asset_store.mark_deleted_many(
            conn,
            [(asset.id, seq + n) for n, asset in enumerate(current)],
            now,
            forget_source=forget_source,
        )
        for asset in current:
            await self._notify(conn, _deletion(asset, now))
        return len(current)

    async def moderate(
        self, principal: Principal, uid: str, *, approve: bool, reason: str | None = None
    ) -> StoredAsset:
        if not principal.is_admin:
            raise Forbidden("only an admin may approve or reject assets")
        await self.load_keys()
        current = await self._managed(principal, uid)
        if current.moderation == PUBLISHED and current.pending is None:
            raise Unprocessable(f"the asset {uid!r} has nothing waiting for a decision")
        now = next_version_time(current.updated_at)
        async with db.write(self.engine) as conn:
            if current.pending is not None:
                if approve:
                    record, _ = vocab.read_asset_document(current.pending)
                    await self._store(conn, current, record, now, PUBLISHED)
                else:
                    await asset_store.set_pending(conn, current.id, None, reason)
            elif approve:
                # First publication: its timestamps become the moment it went public.
                await self._store(conn, current, current.record, now, PUBLISHED, created=now)
            else:
                await conn.execute(
                    update(assets)
                    .where(assets.c.id == current.id)
                    .values(moderation=REJECTED, moderation_reason=reason)
                )
            await log_moderation(
                conn, principal.describe(), "approve" if approve else "reject", current.iri, reason
            )
        self.after_commit()
        return await self.get(uid, principal)

    async def _managed(self, principal: Principal, uid: str) -> StoredAsset:
        asset = await self.get(uid, principal)
        if asset.origin != LOCAL:
            raise Forbidden(N_("mirrored assets can only be changed by their origin node"))
        if not principal.may_manage_group(asset.group_id):
            raise Forbidden(
                N_("the asset %(uid)s belongs to another group"), params={"uid": repr(uid)}
            )
        return asset

    async def _store(
        self,
        conn: AsyncConnection,
        current: StoredAsset,
        record: vocab.AssetRecord,
        now: datetime,
        moderation: str,
        created: datetime | None = None,
        *,
        visibility: str | None = None,
    ) -> None:
        visibility = visibility or current.visibility
        slug, _, _ = await self._group_rules(conn, current.group_id)
        row = self.local_row(
            record,
            uid=current.uid,
            group_id=current.group_id,
            moderation=moderation,
            created=created or current.created_at,
            updated=now,
            seq=await next_change_seq(conn),
            visibility=visibility,
            group_slug=slug,
        )
        await asset_store.replace_assets(conn, [(current.id, row)])
        action = "update" if current.is_public else "create"
        await self._notify(
            conn,
            AssetChange(
                action,
                current.id,
                current.iri,
                row.document,
                moderation == PUBLISHED,
                now,
                visibility=visibility,
                was=current.visibility if current.is_public else None,
                group_id=current.group_id,
            ),
        )

    async def _notify(self, conn: AsyncConnection, change: AssetChange) -> None:
        for listener in self.listeners:
            await listener(conn, change)

    def after_commit(self) -> None:
        for hook in self.committed:  # e.g. wake the delivery worker
            hook()

    # -- batch import -------------------------------------------------------------------------

    async def import_batch(
        self,
        group_id: int,
        items: Iterable[tuple[str, vocab.AssetRecord]],
        *,
        dry_run: bool = False,
    ) -> dict[str, int]:
        """Insert or update many records in one transaction, keyed by their source reference.

        A reference `iri:{IRI}` (a row of our own export) names the local asset with that IRI:
        it is updated in place, keeping its group and its original source reference.
        Re-running an import changes nothing for records that did not change. With `dry_run`
        the counts are computed and nothing is written.
        """
        items = list(items)
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        await self.load_keys()
        if not items:
            return counts
        async with db.write(self.engine) as conn:
            refs = [ref for ref, _ in items]
            existing = {
                row.source_ref: row
                for row in await conn.execute(select_assets().where(assets.c.source_ref.in_(refs)))
            }
            iris = [ref[4:] for ref in refs if ref.startswith(IRI_REF)]
            if iris:
                for row in await conn.execute(
                    select_assets().where(assets.c.iri.in_(iris), assets.c.origin == LOCAL)
                ):
                    existing[IRI_REF + row.iri] = row
            seq = await next_change_seq(conn)
            now = utcnow()
            rules = {group_id: await self._group_rules(conn, group_id)}
            slug, default_visibility, default_license = rules[group_id]
            new_rows: list[AssetRow] = []
            changed: list[tuple[int, AssetRow]] = []
            was: dict[int, str | None] = {}
            for ref, record in items:
                old = existing.get(ref)
                if record.license is None and default_license:
                    record = dataclasses.replace(record, license=default_license)
                if old is None:
                    new_rows.append(
                        self.local_row(
                            record,
                            uid=asset_store.new_uid(),
                            group_id=group_id,
                            moderation=PUBLISHED,
                            created=now,
                            updated=now,
                            seq=seq,
                            source_ref=ref,
                            visibility=default_visibility,
                            group_slug=slug,
                        )
                    )
                    seq += 1
                    continue
                old_record, _ = vocab.read_asset_document(orjson.loads(old.document))
                if old_record == record and old.deleted_at is None:
                    counts["unchanged"] += 1
                    continue
                owner = old.group_id if ref.startswith(IRI_REF) else group_id
                if owner not in rules:
                    rules[owner] = await self._group_rules(conn, owner)
                changed.append(
                    (
                        old.id,
                        self.local_row(
                            record,
                            uid=old.uid,
                            group_id=owner,
                            visibility=old.visibility,
                            group_slug=rules[owner][0],
                            moderation=PUBLISHED,
                            created=as_utc(old.created_at),
                            updated=next_version_time(old.updated_at),
                            seq=seq,
                            source_ref=old.source_ref if ref.startswith(IRI_REF) else ref,
                        ),
                    )
                )
                # Who saw it before this change (None: nobody, it was not public).
                was[old.id] = (
                    old.visibility
                    if old.deleted_at is None and old.moderation == PUBLISHED
                    else None
                )
                seq += 1
            if dry_run:
                await conn.rollback()
                counts["created"], counts["updated"] = len(new_rows), len(changed)
                return counts
            ids = await asset_store.insert_assets(conn, new_rows)
            await asset_store.replace_assets(conn, changed)
            was.update(dict.fromkeys(ids))  # new: nobody saw them before
            changes = [
                AssetChange(
                    "create" if was[asset_id] is None else "update",
                    asset_id,
                    row.iri,
                    row.document,
                    True,
                    now,
                    "import",
                    visibility=row.visibility,
                    was=was[asset_id],
                    group_id=row.group_id,
                )
                for asset_id, row in [*zip(ids, new_rows, strict=True), *changed]
            ]
            for change in changes:
                await self._notify(conn, change)
        self.after_commit()
        counts["created"], counts["updated"] = len(new_rows), len(changed)
        return counts


IRI_REF = "iri:"  # an import reference naming one of our own assets by its IRI


def _deletion(asset: StoredAsset, now: datetime) -> AssetChange:
    """The deletion of an asset, told to those who could see it."""
    return AssetChange(
        "delete",
        asset.id,
        asset.iri,
        asset.document,
        asset.is_public,
        now,
        visibility=asset.visibility,
        was=asset.visibility,
        group_id=asset.group_id,
    )


def validate(data: Any) -> vocab.AssetRecord:
    try:
        return vocab.validate_asset_input(data)
    except vocab.ValidationError as exc:
        raise invalid(exc) from None


def patch(record: vocab.AssetRecord, data: Any) -> vocab.AssetRecord:
    if not isinstance(data, dict):
        raise Unprocessable(
            "a partial update must be a JSON object of the fields to change",
            errors=[{"field": "", "message": "expected a JSON object"}],
        )
    try:
        return vocab.patch_record(record, data)
    except vocab.ValidationError as exc:
        raise invalid(exc) from None


def invalid(exc: vocab.ValidationError) -> Unprocessable:
    errors = [{"field": e.field, "message": e.message} for e in exc.errors]
    fields_named = ", ".join(dict.fromkeys(e["field"] or "(body)" for e in errors))
    detail = N_("the asset is not valid: check %(fields)s")
    return Unprocessable(detail, errors=errors, params={"fields": fields_named})


async def log_moderation(
    conn: AsyncConnection, actor: str, action: str, subject: str, reason: str | None
) -> None:
    await conn.execute(
        insert(moderation_log).values(
            at=utcnow(), actor=actor, action=action, subject=subject, reason=reason
        )
    )


async def moderation_queue(engine: AsyncEngine) -> list[StoredAsset]:
    query = (
        select_assets()
        .where(
            assets.c.deleted_at.is_(None), or_(assets.c.moderation == PENDING, assets.c.has_pending)
        )
        .order_by(assets.c.updated_at, assets.c.id)
    )
    async with db.read(engine) as conn:
        return [stored_from_row(row) for row in await conn.execute(query)]
