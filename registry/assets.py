"""The asset service: create, change, delete and moderate the node's own assets.

Every change is one transaction that stores the JSON-LD document (the source of truth), its
projections and tags, and tells the change listeners (the federation outbox) inside the same
transaction, so a change and its announcement are stored together or not at all.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import and_, delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import vocab
from registry import db
from registry.accounts import Principal, iso
from registry.config import Settings
from registry.errors import Forbidden, Gone, NotFound, Unprocessable
from registry.projection import content_hash, dump_document, project
from registry.schema import (
    LOCAL,
    PENDING,
    PUBLISHED,
    REJECTED,
    asset_tags,
    assets,
    groups,
    moderation_log,
)

_UID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32: no i, l, o, u
CHANGE_LOCK = 727_001  # PostgreSQL advisory lock that orders change_seq with commits


def new_uid() -> str:
    return "".join(secrets.choice(_UID_ALPHABET) for _ in range(12))


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class StoredAsset:
    """An asset as the node holds it: its record, document and moderation state."""

    id: int
    uid: str
    iri: str
    origin: str
    group_id: int | None
    group_slug: str | None
    moderation: str
    moderation_reason: str | None
    pending: dict[str, Any] | None
    document: dict[str, Any]
    record: vocab.AssetRecord
    meta: vocab.AssetMeta
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @property
    def is_public(self) -> bool:
        return self.moderation == PUBLISHED and self.deleted_at is None

    def to_json(self, base_url: str) -> dict[str, Any]:
        """The REST representation: the record's fields plus where and how the node holds it."""
        body: dict[str, Any] = {
            "id": self.uid,
            "iri": self.iri,
            "url": self.meta.url,
            "origin": self.origin,
            "group": self.group_slug,
            "moderation": {
                "state": self.moderation,
                "reason": self.moderation_reason,
                "pending_change": self.pending is not None,
            },
            "created": iso(self.created_at),
            "updated": iso(self.updated_at),
        }
        body.update(self.record.to_json())
        body["links"] = {
            "self": f"{base_url}/api/assets/{self.uid}",
            "jsonld": self.iri if self.origin == LOCAL else f"{base_url}/mirror/{self.uid}",
            "html": f"{base_url}/assets/{self.uid}"
            if self.origin == LOCAL
            else f"{base_url}/mirror/{self.uid}",
        }
        return body


@dataclass(frozen=True)
class AssetChange:
    """What happened to an asset, for listeners that run inside the writing transaction."""

    action: str  # "create" | "update" | "delete"
    asset_id: int
    iri: str
    document: dict[str, Any]
    published: bool  # whether the change is public (moderation passed)
    at: datetime


ChangeListener = Callable[[AsyncConnection, AssetChange], Awaitable[None]]


def asset_columns() -> list:
    return [*assets.c, groups.c.slug.label("group_slug")]


def stored_from_row(row: Any) -> StoredAsset:
    document = orjson.loads(row.document)
    record, meta = vocab.read_asset_document(document)
    pending = orjson.loads(row.pending_document) if row.pending_document else None
    return StoredAsset(
        id=row.id,
        uid=row.uid,
        iri=row.iri,
        origin=row.origin,
        group_id=row.group_id,
        group_slug=row.group_slug,
        moderation=row.moderation,
        moderation_reason=row.moderation_reason,
        pending=pending,
        document=document,
        record=record,
        meta=meta,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        deleted_at=as_utc(row.deleted_at) if row.deleted_at else None,
    )


async def next_change_seq(conn: AsyncConnection, count: int = 1) -> int:
    """First of `count` consecutive change numbers, in commit order on both databases."""
    if not db.is_sqlite(conn):
        # Serialise asset writers so that a reader of the changes feed never sees seq N+1
        # committed while N is still in flight (sequences alone commit out of order).
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOCK})
    current = (await conn.execute(select(func.max(assets.c.change_seq)))).scalar()
    return (current or 0) + 1


@dataclass
class AssetService:
    engine: AsyncEngine
    settings: Settings
    listeners: list[ChangeListener] = field(default_factory=list)

    # -- identities ---------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return self.settings.base_url

    def iri_for(self, uid: str) -> str:
        return f"{self.base}/assets/{uid}"

    def meta_for(self, uid: str, published: datetime, updated: datetime) -> vocab.AssetMeta:
        iri = self.iri_for(uid)
        return vocab.AssetMeta(
            iri=iri,
            url=iri,
            attributed_to=f"{self.base}/actor",
            published=published,
            updated=updated,
            followers=f"{self.base}/followers",
        )

    def document_for(
        self, record: vocab.AssetRecord, uid: str, published: datetime, updated: datetime
    ) -> dict[str, Any]:
        return vocab.asset_document(
            record, self.meta_for(uid, published, updated), tag_base=f"{self.base}/tags"
        )

    # -- reads --------------------------------------------------------------------------------

    async def get(
        self, uid: str, principal: Principal | None = None, *, include_deleted: bool = False
    ) -> StoredAsset:
        """An asset the caller may see: published ones for everybody, the rest for its group."""
        query = (
            select(*asset_columns())
            .select_from(assets.outerjoin(groups, groups.c.id == assets.c.group_id))
            .where(assets.c.uid == uid)
        )
        async with db.read(self.engine) as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"there is no asset {uid!r}")
        asset = stored_from_row(row)
        if asset.deleted_at is not None and not include_deleted:
            raise Gone(f"the asset {uid!r} was deleted on {iso(asset.deleted_at)}")
        if asset.moderation != PUBLISHED and not (
            principal is not None and principal.may_manage_group(asset.group_id)
        ):
            raise NotFound(f"there is no asset {uid!r}")
        return asset

    # -- writes -------------------------------------------------------------------------------

    def _needs_approval(self, principal: Principal) -> bool:
        return self.settings.moderation.require_approval and not principal.is_admin

    async def _resolve_group(
        self, conn: AsyncConnection, principal: Principal, group_slug: str | None
    ) -> tuple[int | None, str | None]:
        if group_slug is None or group_slug == principal.group_slug:
            return principal.group_id, principal.group_slug
        if not principal.is_admin:
            raise Forbidden("a group token may only create assets for its own group")
        group_id = (
            await conn.execute(select(groups.c.id).where(groups.c.slug == group_slug))
        ).scalar()
        if group_id is None:
            raise Unprocessable(
                f"there is no group {group_slug!r}",
                errors=[{"field": "group", "message": "unknown group"}],
            )
        return group_id, group_slug

    async def create(
        self, principal: Principal, data: Any, group_slug: str | None = None
    ) -> StoredAsset:
        record = validate(data)
        now = utcnow()
        uid = new_uid()
        document = self.document_for(record, uid, now, now)
        moderation = PENDING if self._needs_approval(principal) else PUBLISHED
        async with db.write(self.engine) as conn:
            group_id, _ = await self._resolve_group(conn, principal, group_slug)
            if group_id is None and not principal.is_admin:
                raise Forbidden("this token belongs to no group")
            seq = await next_change_seq(conn)
            values = self._row(
                record,
                document,
                uid=uid,
                group_id=group_id,
                moderation=moderation,
                created=now,
                seq=seq,
            )
            asset_id = (
                await conn.execute(insert(assets).values(**values).returning(assets.c.id))
            ).scalar_one()
            await self._write_tags(conn, asset_id, record)
            await self._notify(
                conn,
                AssetChange(
                    "create", asset_id, values["iri"], document, moderation == PUBLISHED, now
                ),
            )
        return await self.get(uid, principal)

    async def update(
        self, principal: Principal, uid: str, data: Any, *, partial: bool
    ) -> StoredAsset:
        current = await self._managed(principal, uid)
        base_record = current.record
        if current.pending is not None:  # edits build on the newest submitted version
            base_record, _ = vocab.read_asset_document(current.pending)
        record = patch(base_record, data) if partial else validate(data)
        now = utcnow()
        document = self.document_for(record, uid, current.created_at, now)
        async with db.write(self.engine) as conn:
            if current.moderation == PUBLISHED and self._needs_approval(principal):
                # The public version stays as it is until an admin approves the change.
                await conn.execute(
                    update(assets)
                    .where(assets.c.id == current.id)
                    .values(
                        pending_document=dump_document(document).decode(), moderation_reason=None
                    )
                )
            else:
                moderation = current.moderation
                if moderation == REJECTED:  # a fixed submission goes back into the queue
                    moderation = PENDING if self._needs_approval(principal) else PUBLISHED
                await self._store(conn, current, record, document, now, moderation)
        return await self.get(uid, principal)

    async def delete(self, principal: Principal, uid: str) -> None:
        current = await self._managed(principal, uid)
        now = utcnow()
        async with db.write(self.engine) as conn:
            seq = await next_change_seq(conn)
            await conn.execute(
                update(assets)
                .where(assets.c.id == current.id)
                .values(deleted_at=now, updated_at=now, change_seq=seq, pending_document=None)
            )
            await self._notify(
                conn,
                AssetChange(
                    "delete", current.id, current.iri, current.document, current.is_public, now
                ),
            )

    async def moderate(
        self, principal: Principal, uid: str, *, approve: bool, reason: str | None = None
    ) -> StoredAsset:
        if not principal.is_admin:
            raise Forbidden("only an admin may approve or reject assets")
        current = await self._managed(principal, uid)
        if current.moderation == PUBLISHED and current.pending is None:
            raise Unprocessable(f"the asset {uid!r} has nothing waiting for a decision")
        now = utcnow()
        async with db.write(self.engine) as conn:
            if current.pending is not None:
                if approve:
                    record, _ = vocab.read_asset_document(current.pending)
                    await self._store(conn, current, record, current.pending, now, PUBLISHED)
                else:
                    await conn.execute(
                        update(assets)
                        .where(assets.c.id == current.id)
                        .values(pending_document=None, moderation_reason=reason)
                    )
            elif approve:
                # First publication: its timestamps become the moment it went public.
                document = self.document_for(current.record, uid, now, now)
                await self._store(
                    conn, current, current.record, document, now, PUBLISHED, created=now
                )
            else:
                await conn.execute(
                    update(assets)
                    .where(assets.c.id == current.id)
                    .values(moderation=REJECTED, moderation_reason=reason)
                )
            await log_moderation(
                conn, principal.describe(), "approve" if approve else "reject", current.iri, reason
            )
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
        document: dict[str, Any],
        now: datetime,
        moderation: str,
        created: datetime | None = None,
    ) -> None:
        seq = await next_change_seq(conn)
        values = self._row(
            record,
            document,
            uid=current.uid,
            group_id=current.group_id,
            moderation=moderation,
            created=created or current.created_at,
            seq=seq,
            updated=now,
        )
        for unchanged in ("uid", "iri", "origin", "group_id"):
            values.pop(unchanged)
        values["pending_document"] = None
        values["moderation_reason"] = None
        await conn.execute(update(assets).where(assets.c.id == current.id).values(**values))
        await conn.execute(delete(asset_tags).where(asset_tags.c.asset_id == current.id))
        await self._write_tags(conn, current.id, record)
        was_public = current.is_public
        action = "update" if was_public else "create"
        await self._notify(
            conn,
            AssetChange(action, current.id, current.iri, document, moderation == PUBLISHED, now),
        )

    def _row(
        self,
        record: vocab.AssetRecord,
        document: dict[str, Any],
        *,
        uid: str,
        group_id: int | None,
        moderation: str,
        created: datetime,
        seq: int,
        updated: datetime | None = None,
        source_ref: str | None = None,
    ) -> dict[str, Any]:
        return {
            "uid": uid,
            "iri": self.iri_for(uid),
            "origin": LOCAL,
            "group_id": group_id,
            "moderation": moderation,
            "source_ref": source_ref,
            **project(record).columns(),
            "document": dump_document(document).decode(),
            "content_hash": content_hash(document),
            "created_at": created,
            "updated_at": updated or created,
            "change_seq": seq,
        }

    async def _write_tags(
        self, conn: AsyncConnection, asset_id: int, record: vocab.AssetRecord
    ) -> None:
        tags = project(record).tags
        if tags:
            await conn.execute(
                insert(asset_tags), [{"asset_id": asset_id, "tag": tag} for tag in tags]
            )

    async def _notify(self, conn: AsyncConnection, change: AssetChange) -> None:
        for listener in self.listeners:
            await listener(conn, change)

    # -- batch import -------------------------------------------------------------------------

    async def import_batch(
        self, group_id: int, items: Iterable[tuple[str, vocab.AssetRecord]]
    ) -> dict[str, int]:
        """Insert or update many records in one transaction, keyed by their source reference.

        Re-running an import changes nothing for records that did not change.
        """
        items = list(items)
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        if not items:
            return counts
        refs = [ref for ref, _ in items]
        async with db.write(self.engine) as conn:
            existing = {
                row.source_ref: row
                for row in await conn.execute(
                    select(
                        assets.c.id,
                        assets.c.uid,
                        assets.c.source_ref,
                        assets.c.document,
                        assets.c.created_at,
                        assets.c.deleted_at,
                        assets.c.moderation,
                    ).where(assets.c.source_ref.in_(refs))
                )
            }
            seq = await next_change_seq(conn)
            now = utcnow()
            new_rows, changed, changes = [], [], []
            for ref, record in items:
                old = existing.get(ref)
                if old is None:
                    uid = new_uid()
                    document = self.document_for(record, uid, now, now)
                    new_rows.append(
                        (
                            record,
                            self._row(
                                record,
                                document,
                                uid=uid,
                                group_id=group_id,
                                moderation=PUBLISHED,
                                created=now,
                                seq=seq,
                                source_ref=ref,
                            ),
                        )
                    )
                    seq += 1
                    continue
                old_record, _ = vocab.read_asset_document(orjson.loads(old.document))
                if old_record == record and old.deleted_at is None:
                    counts["unchanged"] += 1
                    continue
                document = self.document_for(record, old.uid, as_utc(old.created_at), now)
                row = self._row(
                    record,
                    document,
                    uid=old.uid,
                    group_id=group_id,
                    moderation=PUBLISHED,
                    created=as_utc(old.created_at),
                    seq=seq,
                    updated=now,
                    source_ref=ref,
                )
                row["deleted_at"] = None
                seq += 1
                changed.append(
                    (old.id, record, row, old.deleted_at is None and old.moderation == PUBLISHED)
                )
            if new_rows:
                result = await conn.execute(
                    insert(assets).returning(assets.c.id, sort_by_parameter_order=True),
                    [row for _, row in new_rows],
                )
                ids = [r.id for r in result]
                tag_rows = [
                    {"asset_id": asset_id, "tag": tag}
                    for asset_id, (record, _) in zip(ids, new_rows, strict=True)
                    for tag in project(record).tags
                ]
                if tag_rows:
                    await conn.execute(insert(asset_tags), tag_rows)
                changes += [
                    AssetChange(
                        "create", asset_id, row["iri"], orjson.loads(row["document"]), True, now
                    )
                    for asset_id, (_, row) in zip(ids, new_rows, strict=True)
                ]
                counts["created"] = len(new_rows)
            for asset_id, record, row, was_public in changed:
                await conn.execute(update(assets).where(assets.c.id == asset_id).values(**row))
                await conn.execute(delete(asset_tags).where(asset_tags.c.asset_id == asset_id))
                await self._write_tags(conn, asset_id, record)
                changes.append(
                    AssetChange(
                        "update" if was_public else "create",
                        asset_id,
                        row["iri"],
                        orjson.loads(row["document"]),
                        True,
                        now,
                    )
                )
            counts["updated"] = len(changed)
            for change in changes:
                await self._notify(conn, change)
        return counts


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
        select(*asset_columns())
        .select_from(assets.outerjoin(groups, groups.c.id == assets.c.group_id))
        .where(
            assets.c.deleted_at.is_(None),
            or_(
                assets.c.moderation == PENDING,
                and_(assets.c.moderation == PUBLISHED, assets.c.pending_document.is_not(None)),
            ),
        )
        .order_by(assets.c.updated_at, assets.c.id)
    )
    async with db.read(engine) as conn:
        return [stored_from_row(row) for row in await conn.execute(query)]
