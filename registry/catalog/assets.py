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

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import vocab
from registry.catalog import local_documents
from registry.catalog import store as asset_store
from registry.catalog import visibility as visibility_rule
from registry.catalog.asset_batches import import_batch
from registry.catalog.asset_changes import AssetChange, deletion
from registry.catalog.asset_input import patch, validate
from registry.catalog.moderation_queue import log_moderation
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
from registry.core.node_keys import load_node_keys
from registry.core.schema import LOCAL, PENDING, PUBLISHED, REJECTED, assets, groups
from registry.people.accounts import Principal
from vocab.times import as_utc, iso, utcnow

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
        **how: Any,
    ) -> dict[str, Any]:
        """Our signed document of a record (`local_documents.local_document`)."""
        return local_documents.local_document(self, record, uid, published, updated, **how)

    async def load_keys(self) -> None:
        """Load the node's Ed25519 key, which signs every local document, once."""
        if self.proof_key is None:
            self.proof_key = (await load_node_keys(self.engine)).ed25519_private_key

    def local_row(self, record: vocab.AssetRecord, **where: Any) -> AssetRow:
        """The rows of one of our own assets (`local_documents.local_row`)."""
        return local_documents.local_row(self, record, **where)

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

    async def group_rules(
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
            slug, default_visibility, default_license = await self.group_rules(conn, group_id)
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
            await self.notify(
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
                slug, _, _ = await self.group_rules(conn, current.group_id)
                pending = self.document_for(
                    record,
                    uid,
                    current.created_at,
                    now,
                    visibility=current.visibility,
                    group_slug=slug,
                    also_known_as=current.meta.also_known_as,
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
            await self.notify(conn, deletion(current, now))
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
            await self.notify(conn, deletion(asset, now))
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
        slug, _, _ = await self.group_rules(conn, current.group_id)
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
            also_known_as=current.meta.also_known_as,
        )
        await asset_store.replace_assets(conn, [(current.id, row)])
        action = "update" if current.is_public else "create"
        await self.notify(
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

    async def notify(self, conn: AsyncConnection, change: AssetChange) -> None:
        for listener in self.listeners:
            await listener(conn, change)

    def after_commit(self) -> None:
        for hook in self.committed:  # e.g. wake the delivery worker
            hook()

    async def import_batch(
        self,
        group_id: int,
        items: Iterable[tuple[str, vocab.AssetRecord]],
        *,
        dry_run: bool = False,
    ) -> dict[str, int]:
        """Insert or update many records in one transaction (`asset_batches.import_batch`)."""
        return await import_batch(self, group_id, items, dry_run=dry_run)
