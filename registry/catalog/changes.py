"""What this node offers partners to pull: its catalog, and a changes feed over it.

The changes feed lists the node's own published assets in `change_seq` order, each in its
latest state: the document, or a tombstone. A partner keeps the last number it applied and
asks for what came after (`?since=`). Tombstones are kept for `mirror.tombstone_days`; the
feed states its horizon, the newest number whose deletion may have been forgotten, so that a
partner away for longer knows to compare whole catalogs instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Text, and_, delete, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

import vocab
from federation.upserts import upsert
from registry.catalog.visibility import PUBLIC_AUDIENCE, Audience, as_flag, in_feed
from registry.core import stored_documents
from registry.core.schema import LOCAL, PUBLISHED, asset_documents, assets, moved_assets, node_state
from vocab.times import as_utc, iso, utcnow

HORIZON_KEY = "changes_horizon"
# A page of the feed ends before its documents pass this many bytes, whatever its page size:
# a partner's fetcher refuses a page over `federation.fetch_max_bytes` (1 MiB by default), and
# an asset may carry a 20,000-character description in each of its languages. A page always
# holds at least one item, so the feed moves on.
PAGE_BYTES = 768 * 1024
FORMER_TYPE = ["as:Page", "commons:CommonsAsset"]  # IRIs: formerType is `@id`-typed


def _feed_condition() -> Any:
    return and_(assets.c.origin == LOCAL, assets.c.moderation == PUBLISHED)


_HORIZON = select(node_state.c.value).where(node_state.c.key == HORIZON_KEY)
_LATEST = select(func.max(assets.c.change_seq)).where(_feed_condition())
# Both in one statement, built once: a feed page asks for both, and each statement is a
# round trip to the database's thread or server (~0.4 ms of CPU on SQLite).
_MARKS = select(
    _LATEST.scalar_subquery().label("latest"), _HORIZON.scalar_subquery().label("horizon")
)


async def horizon(conn: AsyncConnection) -> int:
    value = (await conn.execute(_HORIZON)).scalar()
    return int(value) if value is not None else 0


async def latest_and_horizon(conn: AsyncConnection) -> tuple[int, int]:
    """The feed's newest change number and its horizon (see the module's docstring)."""
    row = (await conn.execute(_MARKS)).one()
    return row.latest or 0, int(row.horizon) if row.horizon is not None else 0


async def changes_page(
    conn: AsyncConnection, since: int, limit: int, audience: Audience = PUBLIC_AUDIENCE
) -> tuple[list[dict], int]:
    """Items after `since` (oldest first), at most `limit` and about PAGE_BYTES of them, and
    the number to continue from. An asset the audience may not have
    (registry.catalog.visibility) is listed as deleted, so that a copy made while it could see
    it goes away."""
    rows = list(
        await conn.execute(
            select(
                as_flag(in_feed(audience)).label("visible"),
                assets.c.iri,
                assets.c.change_seq,
                assets.c.deleted_at,
                assets.c.updated_at,
                # As stored: `load` reads it without parsing its contexts again.
                type_coerce(asset_documents.c.document, Text).label("document"),
                moved_assets.c.new_iri,
            )
            .join(asset_documents, asset_documents.c.asset_id == assets.c.id)
            # A group moved it to another node (moves.py): the tombstone says where.
            .outerjoin(
                moved_assets,
                (moved_assets.c.old_iri == assets.c.iri) & (moved_assets.c.role == "origin"),
            )
            .where(_feed_condition(), assets.c.change_seq > since)
            .order_by(assets.c.change_seq)
            .limit(limit)
        )
    )
    items: list[dict] = []
    size, last = 0, since
    for row in rows:
        if row.deleted_at is not None or not row.visible:
            item: dict = {
                "type": "Delete",
                "commons:seq": row.change_seq,
                "object": {
                    "id": row.iri,
                    "type": "Tombstone",
                    "formerType": FORMER_TYPE,
                    "deleted": iso(as_utc(row.deleted_at or row.updated_at)),
                    # as:movedTo in full: the feed's context does not define `movedTo`.
                    **({"as:movedTo": {"id": row.new_iri}} if row.new_iri else {}),
                },
            }
            item_bytes = len(orjson.dumps(item))
        else:
            document, item_bytes = _object(row.document)
            item = {"type": "Update", "commons:seq": row.change_seq, "object": document}
        if items and size + item_bytes > PAGE_BYTES:
            break
        items.append(item)
        size += item_bytes
        last = row.change_seq
    return items, last


def _object(stored: str) -> tuple[orjson.Fragment, int]:
    """An asset document for the feed without the asset context, which the page carries once
    (readers put it back), and its size in bytes: written as stored where it begins with that
    context (as every document this node writes does), parsed and edited otherwise."""
    text = stored_documents.without_leading_context(stored, vocab.ASSET_CONTEXT)
    if text is not None:
        written = text.encode()
    else:
        document = stored_documents.load(stored)
        if document.get("@context") == vocab.ASSET_CONTEXT:
            del document["@context"]
        written = orjson.dumps(document)
    return orjson.Fragment(written), len(written)


async def catalog_page(
    conn: AsyncConnection, after_id: int | None, limit: int, audience: Audience = PUBLIC_AUDIENCE
) -> tuple[list[str], int | None]:
    """IRIs of the node's live, published assets by id, for a full comparison of catalogs."""
    query = select(assets.c.id, assets.c.iri).where(
        _feed_condition(), assets.c.deleted_at.is_(None), in_feed(audience)
    )
    if after_id is not None:
        query = query.where(assets.c.id > after_id)
    rows = list(await conn.execute(query.order_by(assets.c.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return [row.iri for row in rows], rows[-1].id if more and rows else None


async def catalog_total(conn: AsyncConnection, audience: Audience = PUBLIC_AUDIENCE) -> int:
    query = (
        select(func.count())
        .select_from(assets)
        .where(_feed_condition(), assets.c.deleted_at.is_(None), in_feed(audience))
    )
    return (await conn.execute(query)).scalar_one()


async def purge_tombstones(
    conn: AsyncConnection, older_than: timedelta, now: datetime | None = None
) -> int:
    """Forget deletions past the window, and move the horizon past them."""
    cutoff = (now or utcnow()) - older_than
    old = assets.c.deleted_at.is_not(None) & (assets.c.deleted_at < cutoff)
    newest = (
        await conn.execute(
            select(func.max(assets.c.change_seq)).where(old, assets.c.origin == LOCAL)
        )
    ).scalar()
    result = await conn.execute(delete(assets).where(old))
    if newest is not None:
        value = str(max(newest, await horizon(conn)))
        await upsert(conn, node_state, {"key": HORIZON_KEY}, {"value": value})
    return result.rowcount or 0
