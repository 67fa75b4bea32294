"""How an asset is stored across tables, for every writer (API, importer, mirror).

One asset is a row in `assets` (projections that search scans), its document in
`asset_documents`, its words in `asset_search` and its tags in `asset_tags`. The functions here
write all of them together, so no writer can leave them out of step.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Select, bindparam, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

import vocab
from registry.catalog import bulk_rows, visibility
from registry.catalog.parsed_documents import PARSED
from registry.catalog.projection import StoredForm, dump, stored_form
from registry.catalog.version import catalog_version
from registry.core import db, iris
from registry.core.schema import (
    LOCAL,
    PUBLISHED,
    asset_documents,
    asset_search,
    asset_tags,
    assets,
    groups,
)
from vocab.times import as_utc, iso, utcnow

_UID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32: no i, l, o, u
CHANGE_LOCK = 727_001  # PostgreSQL advisory lock that orders change_seq with commits


def new_uid() -> str:
    """12 random Crockford base32 characters (60 bits), from one call for random bytes."""
    bits = int.from_bytes(secrets.token_bytes(8)) >> 4
    return "".join(_UID_ALPHABET[(bits >> shift) & 31] for shift in range(55, -1, -5))


def next_version_time(previous: datetime) -> datetime:
    """When a new version of an asset last changed at `previous` is stamped: now, but always
    at least a second later. Times are kept to the second, and mirrors order versions by
    `updated`, so two edits within one second must not share a stamp."""
    return max(utcnow(), as_utc(previous) + timedelta(seconds=1))


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
    content_hash: str
    visibility: str = "public"  # registry.catalog.visibility

    @property
    def is_public(self) -> bool:
        return self.moderation == PUBLISHED and self.deleted_at is None

    def to_json(self, base_url: str) -> dict[str, Any]:
        """The REST representation: the record's fields plus where and how the node holds it."""
        page = iris.asset_page(base_url, self.uid, local=self.origin == LOCAL)
        body: dict[str, Any] = {
            "id": self.uid,
            "iri": self.iri,
            "url": self.meta.url,
            "origin": self.origin,
            "group": self.group_slug,
            "visibility": self.visibility,
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
            "self": iris.api_asset(base_url, self.uid),
            "jsonld": self.iri if self.origin == LOCAL else page,
            "html": page,
        }
        return body


@dataclass(frozen=True)
class AssetRow:
    """Everything one write of an asset needs."""

    uid: str
    iri: str
    origin: str
    group_id: int | None
    moderation: str
    record: vocab.AssetRecord | None  # None only with `form`
    document: dict[str, Any] | None  # None only with `form`
    created: datetime
    updated: datetime
    seq: int
    source_ref: str | None = None
    visibility: str = "public"
    form: StoredForm | None = None  # made beforehand; otherwise made from record and document

    def stored(self) -> StoredForm:
        if self.form is not None:
            return self.form
        assert self.record is not None and self.document is not None, (
            "an AssetRow needs its record and document, or its stored form"
        )
        return stored_form(self.record, self.document)

    def hot_columns(self, form: StoredForm) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "iri": self.iri,
            "origin": self.origin,
            "group_id": self.group_id,
            "moderation": self.moderation,
            "moderation_reason": None,
            "has_pending": False,
            "source_ref": self.source_ref,
            **form.projection.columns(),
            "content_hash": form.content_hash,
            "created_at": self.created,
            "updated_at": self.updated,
            "deleted_at": None,
            "change_seq": self.seq,
            "visibility": self.visibility,
        }


def select_assets() -> Select[Any]:
    """Assets with their documents and group slugs, ready for `stored_from_row`."""
    return select(
        assets,
        asset_documents.c.document,
        asset_documents.c.pending_document,
        groups.c.slug.label("group_slug"),
    ).select_from(
        assets.join(asset_documents, asset_documents.c.asset_id == assets.c.id).outerjoin(
            groups, groups.c.id == assets.c.group_id
        )
    )


def stored_from_row(row: Any, *, remember: bool = True) -> StoredAsset:
    document = orjson.loads(row.document)
    record, meta = PARSED.read(row.document, document, remember=remember)
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
        content_hash=row.content_hash,
        visibility=row.visibility,
    )


async def next_change_seq(conn: AsyncConnection) -> int:
    """The next change number; callers writing n changes use n consecutive numbers from it.

    On PostgreSQL asset writers are serialised by an advisory lock held to the end of the
    transaction, so that a reader of the changes feed never sees N+1 committed while N is still
    in flight (sequences alone commit out of order). SQLite has one writer anyway.
    """
    if not db.is_sqlite(conn):
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOCK})
    return await catalog_version(conn) + 1


def _detail_rows(asset_id: int, form: StoredForm) -> tuple[dict, dict, list]:
    document = {"asset_id": asset_id, "document": form.text, "pending_document": None}
    projection = form.projection
    search = {
        "asset_id": asset_id,
        "search_name": projection.search_name,
        "search_text": projection.search_text,
    }
    tags = [{"asset_id": asset_id, "tag": tag} for tag in projection.tags]
    return document, search, tags


async def insert_assets(conn: AsyncConnection, rows: list[AssetRow]) -> list[int]:
    """Insert new assets in one round trip per table; returns their ids in order."""
    if not rows:
        return []
    forms = [row.stored() for row in rows]
    hot = [row.hot_columns(form) for row, form in zip(rows, forms, strict=True)]
    if bulk_rows.copies(conn, len(rows)):
        ids = await bulk_rows.next_ids(conn, assets, len(rows))
        for asset_id, columns in zip(ids, hot, strict=True):
            columns["id"] = asset_id
        await bulk_rows.insert_rows(conn, assets, hot)
    else:
        # Ids matched back by uid: RETURNING in parameter order is one row per statement on
        # SQLite.
        result = await conn.execute(insert(assets).returning(assets.c.id, assets.c.uid), hot)
        by_uid = {r.uid: r.id for r in result}
        ids = [by_uid[row.uid] for row in rows]
    await _insert_details(conn, list(zip(ids, forms, strict=True)))
    return ids


async def replace_assets(conn: AsyncConnection, changes: list[tuple[int, AssetRow]]) -> None:
    """Overwrite existing assets (and clear any tombstone or pending change)."""
    if not changes:
        return
    forms = [row.stored() for _, row in changes]
    hot = []
    for (asset_id, row), form in zip(changes, forms, strict=True):
        columns = row.hot_columns(form)
        for fixed in ("uid", "iri", "origin"):
            columns.pop(fixed)
        hot.append({"target_id": asset_id, **columns})
    await conn.execute(
        update(assets)
        .where(assets.c.id == bindparam("target_id"))
        .values({name: bindparam(name) for name in hot[0] if name != "target_id"}),
        hot,
    )
    ids = [asset_id for asset_id, _ in changes]
    await conn.execute(delete(asset_documents).where(asset_documents.c.asset_id.in_(ids)))
    await conn.execute(delete(asset_search).where(asset_search.c.asset_id.in_(ids)))
    await conn.execute(delete(asset_tags).where(asset_tags.c.asset_id.in_(ids)))
    await _insert_details(conn, list(zip(ids, forms, strict=True)))


async def _insert_details(conn: AsyncConnection, forms: list[tuple[int, StoredForm]]) -> None:
    """The document, search text and tags of each asset (id, stored form)."""
    documents, searches, tags = [], [], []
    for asset_id, form in forms:
        document, search, asset_tags_rows = _detail_rows(asset_id, form)
        documents.append(document)
        searches.append(search)
        tags += asset_tags_rows
    await bulk_rows.insert_rows(conn, asset_documents, documents)
    await bulk_rows.insert_rows(conn, asset_search, searches)
    await bulk_rows.insert_rows(conn, asset_tags, tags)


async def mark_deleted(conn: AsyncConnection, asset_id: int, at: datetime, seq: int) -> None:
    """Leave a tombstone: the row stays (so a late copy cannot come back), unsearchable."""
    await mark_deleted_many(conn, [(asset_id, seq)], at)


async def mark_deleted_many(
    conn: AsyncConnection,
    deletions: list[tuple[int, int]],
    at: datetime,
    *,
    forget_source: bool = False,
) -> None:
    """Tombstone many assets at once, each `(asset_id, change_seq)`, in a few statements.

    `forget_source` drops the importer's key, so that importing the same records again creates
    new assets (new IRIs) instead of reviving tombstones that partners already hold as deleted.
    """
    if not deletions:
        return
    values: dict[str, Any] = {
        "deleted_at": at,
        "updated_at": at,
        "change_seq": bindparam("seq"),
        "has_pending": False,
    }
    if forget_source:
        values["source_ref"] = None
    await conn.execute(
        update(assets).where(assets.c.id == bindparam("asset_id")).values(**values),
        [{"asset_id": asset_id, "seq": seq} for asset_id, seq in deletions],
    )
    ids = [asset_id for asset_id, _ in deletions]
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        await conn.execute(
            update(asset_documents)
            .where(asset_documents.c.asset_id.in_(chunk))
            .values(pending_document=None)
        )
        await conn.execute(delete(asset_search).where(asset_search.c.asset_id.in_(chunk)))
        await conn.execute(delete(asset_tags).where(asset_tags.c.asset_id.in_(chunk)))


async def set_pending(
    conn: AsyncConnection, asset_id: int, document: dict[str, Any] | None, reason: str | None = None
) -> None:
    """Keep (or drop) a change waiting for approval beside the public document."""
    await conn.execute(
        update(asset_documents)
        .where(asset_documents.c.asset_id == asset_id)
        .values(pending_document=dump(document) if document else None)
    )
    await conn.execute(
        update(assets)
        .where(assets.c.id == asset_id)
        .values(has_pending=document is not None, moderation_reason=reason)
    )


async def published_document(
    conn: AsyncConnection, uid: str, audience: visibility.Audience = visibility.PUBLIC_AUDIENCE
) -> Any:
    """The stored document text of an asset with its state, without parsing it (the hot path
    of GET /assets/{id} as JSON-LD); `readable` says whether `audience` may have it, `open`
    whether anybody may (only those may be cached for everybody)."""
    query = (
        select(
            visibility.readable_flag(audience).label("readable"),
            visibility.readable_flag(visibility.PUBLIC_AUDIENCE).label("open"),
            assets.c.iri,
            assets.c.origin,
            assets.c.moderation,
            assets.c.deleted_at,
            assets.c.visibility,
            asset_documents.c.document,
        )
        .select_from(assets.join(asset_documents, asset_documents.c.asset_id == assets.c.id))
        .where(assets.c.uid == uid)
    )
    return (await conn.execute(query)).first()


async def find_by_iri(conn: AsyncConnection, iri: str) -> Any:
    """The state of an asset by IRI (also tombstones), without its document."""
    held = ("id", "uid", "origin", "updated_at", "deleted_at", "content_hash")
    query = select(*(assets.c[n] for n in held)).where(assets.c.iri == iri)
    return (await conn.execute(query)).first()


async def insert_tombstone(
    conn: AsyncConnection, *, iri: str, origin: str, at: datetime, seq: int
) -> None:
    """Remember the deletion of an asset we never held, so a late copy cannot appear."""
    document = {"id": iri, "type": "Tombstone", "deleted": iso(at)}
    result = await conn.execute(
        insert(assets)
        .values(
            uid=new_uid(),
            iri=iri,
            origin=origin,
            group_id=None,
            moderation=PUBLISHED,
            name="",
            kind="other",
            status="closed",
            search_name="",
            content_hash="",
            created_at=at,
            updated_at=at,
            deleted_at=at,
            change_seq=seq,
        )
        .returning(assets.c.id)
    )
    await conn.execute(
        insert(asset_documents).values(asset_id=result.scalar_one(), document=dump(document))
    )


async def find_by_iris(conn: AsyncConnection, iris: list[str]) -> list[Any]:
    held = ("id", "iri", "uid", "origin", "updated_at", "deleted_at")
    query = select(*(assets.c[n] for n in held)).where(assets.c.iri.in_(iris))
    async with db.planned_for_values(conn):
        return list(await conn.execute(query))
