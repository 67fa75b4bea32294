"""The asset service: create, change, delete and moderate the node's own assets.

Every change is one transaction that stores the document and its projections (through
`asset_store`) and tells the change listeners (the federation outbox) inside the same
transaction, so a change and its announcement are stored together or not at all.
"""

from __future__ import annotations

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
from registry import asset_store, db
from registry.accounts import Principal, iso
from registry.asset_store import (
    AssetRow,
    StoredAsset,
    as_utc,
    next_change_seq,
    next_version_time,
    select_assets,
    stored_from_row,
    utcnow,
)
from registry.config import Settings
from registry.errors import Forbidden, Gone, NotFound, Unprocessable
from registry.node import load_node_keys
from registry.schema import LOCAL, PENDING, PUBLISHED, REJECTED, assets, groups, moderation_log


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
        return f"{self.base}/assets/{uid}"

    def document_for(
        self,
        record: vocab.AssetRecord,
        uid: str,
        published: datetime,
        updated: datetime,
        also_known_as: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        iri = self.iri_for(uid)
        meta = vocab.AssetMeta(
            iri=iri,
            url=iri,
            attributed_to=f"{self.base}/actor",
            published=published,
            updated=updated,
            followers=f"{self.base}/actor/followers",
            language=self.settings.node.default_language,
            also_known_as=also_known_as,  # the IRIs it had before it moved here (registry.moves)
        )
        document = vocab.asset_document(record, meta, tag_base=f"{self.base}/tags")
        if self.proof_key is None:
            raise RuntimeError("the node's keys are not loaded (call load_keys first)")
        # FEP-8b32: any node re-serving the document can show it came unaltered from here.
        return proofs.sign_object(
            document, self.proof_key, f"{self.base}/actor#ed25519-key", created=updated
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
        also_known_as: tuple[str, ...] = (),
    ) -> AssetRow:
        return AssetRow(
            uid=uid,
            iri=self.iri_for(uid),
            origin=LOCAL,
            group_id=group_id,
            moderation=moderation,
            record=record,
            document=self.document_for(record, uid, created, updated, also_known_as),
            created=created,
            updated=updated,
            seq=seq,
            source_ref=source_ref,
        )

    # -- reads --------------------------------------------------------------------------------

    async def get(
        self, uid: str, principal: Principal | None = None, *, include_deleted: bool = False
    ) -> StoredAsset:
        """An asset the caller may see: published ones for everybody, the rest for its group."""
        async with db.read(self.engine) as conn:
            row = (await conn.execute(select_assets().where(assets.c.uid == uid))).first()
        if row is None:
            raise NotFound(f"there is no asset {uid!r}")
        if row.deleted_at is not None and not include_deleted:
            raise Gone(f"the asset {uid!r} was deleted on {iso(as_utc(row.deleted_at))}")
        asset = stored_from_row(row)
        if asset.moderation != PUBLISHED and not (
            principal is not None and principal.may_manage_group(asset.group_id)
        ):
            raise NotFound(f"there is no asset {uid!r}")
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
            raise Forbidden("a group token may only create assets for its own group")
        query = select(groups.c.id).where(groups.c.slug == group_slug)
        found = (await conn.execute(query)).scalar()
        if found is None:
            raise Unprocessable(
                f"there is no group {group_slug!r}",
                errors=[{"field": "group", "message": "unknown group"}],
            )
        return found

    async def create(
        self, principal: Principal, data: Any, group_slug: str | None = None
    ) -> StoredAsset:
        await self.load_keys()
        record = validate(data)
        now = utcnow()
        moderation = PENDING if self._needs_approval(principal) else PUBLISHED
        async with db.write(self.engine) as conn:
            group_id = await self._group_for(conn, principal, group_slug)
            row = self.local_row(
                record,
                uid=asset_store.new_uid(),
                group_id=group_id,
                moderation=moderation,
                created=now,
                updated=now,
                seq=await next_change_seq(conn),
            )
            [asset_id] = await asset_store.insert_assets(conn, [row])
            await self._notify(
                conn,
                AssetChange(
                    "create", asset_id, row.iri, row.document, moderation == PUBLISHED, now
                ),
            )
        self.after_commit()
        return await self.get(row.uid, principal)

    async def update(
        self, principal: Principal, uid: str, data: Any, *, partial: bool
    ) -> StoredAsset:
        await self.load_keys()
        current = await self._managed(principal, uid)
        base_record = current.record
        if current.pending is not None:  # edits build on the newest submitted version
            base_record, _ = vocab.read_asset_document(current.pending)
        record = patch(base_record, data) if partial else validate(data)
        now = next_version_time(current.updated_at)
        async with db.write(self.engine) as conn:
            if current.moderation == PUBLISHED and self._needs_approval(principal):
                # The public version stays as it is until an admin approves the change.
                pending = self.document_for(
                    record, uid, current.created_at, now, current.meta.also_known_as
                )
                await asset_store.set_pending(conn, current.id, pending)
            else:
                moderation = current.moderation
                if moderation == REJECTED:  # a fixed submission goes back into the queue
                    moderation = PENDING if self._needs_approval(principal) else PUBLISHED
                await self._store(conn, current, record, now, moderation)
        self.after_commit()
        return await self.get(uid, principal)

    async def delete(self, principal: Principal, uid: str) -> None:
        current = await self._managed(principal, uid)
        now = next_version_time(current.updated_at)
        async with db.write(self.engine) as conn:
            await asset_store.mark_deleted(conn, current.id, now, await next_change_seq(conn))
            await self._notify(
                conn,
                AssetChange(
                    "delete", current.id, current.iri, current.document, current.is_public, now
                ),
            )
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
            await self._notify(
                conn,
                AssetChange("delete", asset.id, asset.iri, asset.document, asset.is_public, now),
            )
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
            raise Forbidden("mirrored assets can only be changed by their origin node")
        if not principal.may_manage_group(asset.group_id):
            raise Forbidden(f"the asset {uid!r} belongs to another group")
        return asset

    async def _store(
        self,
        conn: AsyncConnection,
        current: StoredAsset,
        record: vocab.AssetRecord,
        now: datetime,
        moderation: str,
        created: datetime | None = None,
    ) -> None:
        row = self.local_row(
            record,
            uid=current.uid,
            group_id=current.group_id,
            moderation=moderation,
            created=created or current.created_at,
            updated=now,
            seq=await next_change_seq(conn),
            also_known_as=current.meta.also_known_as,
        )
        await asset_store.replace_assets(conn, [(current.id, row)])
        action = "update" if current.is_public else "create"
        await self._notify(
            conn,
            AssetChange(
                action, current.id, current.iri, row.document, moderation == PUBLISHED, now
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
            new_rows: list[AssetRow] = []
            changed: list[tuple[int, AssetRow]] = []
            was_public: dict[int, bool] = {}
            for ref, record in items:
                old = existing.get(ref)
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
                        )
                    )
                    seq += 1
                    continue
                old_record, _ = vocab.read_asset_document(orjson.loads(old.document))
                if old_record == record and old.deleted_at is None:
                    counts["unchanged"] += 1
                    continue
                changed.append(
                    (
                        old.id,
                        self.local_row(
                            record,
                            uid=old.uid,
                            group_id=old.group_id if ref.startswith(IRI_REF) else group_id,
                            moderation=PUBLISHED,
                            created=as_utc(old.created_at),
                            updated=next_version_time(old.updated_at),
                            seq=seq,
                            source_ref=old.source_ref if ref.startswith(IRI_REF) else ref,
                        ),
                    )
                )
                was_public[old.id] = old.deleted_at is None and old.moderation == PUBLISHED
                seq += 1
            if dry_run:
                await conn.rollback()
                counts["created"], counts["updated"] = len(new_rows), len(changed)
                return counts
            ids = await asset_store.insert_assets(conn, new_rows)
            await asset_store.replace_assets(conn, changed)
            changes = [
                AssetChange("create", asset_id, row.iri, row.document, True, now, "import")
                for asset_id, row in zip(ids, new_rows, strict=True)
            ]
            changes += [
                AssetChange(
                    "update" if was_public[asset_id] else "create",
                    asset_id,
                    row.iri,
                    row.document,
                    True,
                    now,
                    "import",
                )
                for asset_id, row in changed
            ]
            for change in changes:
                await self._notify(conn, change)
        self.after_commit()
        counts["created"], counts["updated"] = len(new_rows), len(changed)
        return counts


IRI_REF = "iri:"  # an import reference naming one of our own assets by its IRI


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
    return Unprocessable(f"the asset is not valid: check {fields_named}", errors=errors)


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
