"""Search over the catalog: filters, full text, geography, facets and cursor pages.

Pages are cut by keyset (the sort key and the row id of the last item), not by offset, so a
client paging through results while others write never sees an item twice and never misses
one that existed the whole time. The cursor carries a fingerprint of the filters so that it
cannot be replayed against a different query.
"""

from __future__ import annotations

import base64
import math
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.catalog import fulltext
from registry.catalog.facets import FacetCache, cache_key, facet_counts, ranked_page_and_facets
from registry.catalog.ranked_pick import pick_by_score
from registry.catalog.search_query import Near, SearchPage, SearchQuery, invalid_parameter
from registry.catalog.store import select_assets, stored_from_row
from registry.catalog.visibility import listed
from registry.core import db
from registry.core.schema import LOCAL, asset_tags, assets, groups


def distance_expression(dialect: str, near: Near) -> ColumnElement[float]:
    lat, lon = assets.c.latitude, assets.c.longitude
    if dialect == "sqlite":
        return func.distance_km(literal(near.latitude), literal(near.longitude), lat, lon)
    p1, p2 = func.radians(literal(near.latitude)), func.radians(lat)
    dp = func.radians(lat - near.latitude)
    dl = func.radians(lon - near.longitude)
    a = func.power(func.sin(dp / 2), 2) + func.cos(p1) * func.cos(p2) * func.power(
        func.sin(dl / 2), 2
    )
    return 2 * 6371.0088 * func.asin(func.least(1.0, func.sqrt(a)))


def bbox_conditions(bbox: tuple[float, float, float, float]) -> list[ColumnElement[bool]]:
    min_lon, min_lat, max_lon, max_lat = bbox
    lat, lon = assets.c.latitude, assets.c.longitude
    conditions = [lat >= min_lat, lat <= max_lat]
    if min_lon <= max_lon:
        conditions += [lon >= min_lon, lon <= max_lon]
    else:  # the box crosses the antimeridian
        conditions.append(or_(lon >= min_lon, lon <= max_lon))
    return conditions


def _near_box(near: Near) -> tuple[float, float, float, float]:
    """A lat/lon box that contains the circle, so an index narrows rows before the distance."""
    dlat = near.km / 111.0
    min_lat, max_lat = max(-90.0, near.latitude - dlat), min(90.0, near.latitude + dlat)
    widest = max(abs(min_lat), abs(max_lat))
    if widest >= 89.9:
        return (-180.0, min_lat, 180.0, max_lat)
    dlon = near.km / (111.320 * math.cos(math.radians(widest)))
    if dlon >= 180:
        return (-180.0, min_lat, 180.0, max_lat)
    min_lon, max_lon = near.longitude - dlon, near.longitude + dlon
    if min_lon < -180:
        min_lon += 360
    if max_lon > 180:
        max_lon -= 360
    return (min_lon, min_lat, max_lon, max_lat)


def filter_conditions(query: SearchQuery, dialect: str, *, text: bool = True) -> list[Any]:
    """The WHERE clauses of a query's filters (no paging): the search's and the map's; with
    `text` False, without the full-text match (for a caller that joins the index itself)."""
    conditions: list[Any] = [assets.c.deleted_at.is_(None), listed(query.audience)]
    if query.moderation != "all":
        conditions.append(assets.c.moderation == query.moderation)
    if query.group_scope is not None:
        conditions.append(assets.c.group_id == query.group_scope)
    if query.origin == "local":
        conditions.append(assets.c.origin == LOCAL)
    elif query.origin == "mirrored":
        conditions.append(assets.c.origin != LOCAL)
    if query.kinds:
        conditions.append(assets.c.kind.in_(query.kinds))
    if query.statuses:
        conditions.append(assets.c.status.in_(query.statuses))
    if query.countries:
        conditions.append(assets.c.country.in_(query.countries))
    if query.group:
        conditions.append(
            assets.c.group_id.in_(select(groups.c.id).where(groups.c.slug == query.group))
        )
    for tag in query.tags:
        conditions.append(
            assets.c.id.in_(select(asset_tags.c.asset_id).where(asset_tags.c.tag == tag))
        )
    if query.modified_since:
        conditions.append(assets.c.updated_at >= query.modified_since)
    if query.modified_until:
        conditions.append(assets.c.updated_at <= query.modified_until)
    if query.bbox:
        conditions += bbox_conditions(query.bbox)
    if query.near:
        conditions += bbox_conditions(_near_box(query.near))
        conditions.append(distance_expression(dialect, query.near) <= query.near.km)
    words = fulltext.query_words(query.q)
    if query.q and words:
        if text:
            conditions.append(fulltext.match_clause(dialect, words))
    elif query.q:
        conditions.append(literal(False))  # only punctuation: nothing can match
    return conditions


def _sort_key(query: SearchQuery, dialect: str) -> tuple[ColumnElement[Any] | None, bool]:
    """The sort expression before the row id, and whether the order is descending."""
    if query.sort == "relevance":
        return fulltext.score(dialect, fulltext.query_words(query.q)), True
    if query.sort == "name":
        return assets.c.search_name, False
    if query.sort == "distance":
        assert query.near is not None
        return distance_expression(dialect, query.near), False
    return None, True  # newest: the id alone


def encode_cursor(query: SearchQuery, key: list[Any]) -> str:
    raw = orjson.dumps({"f": query.fingerprint(), "k": key})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(query: SearchQuery) -> list[Any] | None:
    if not query.cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(query.cursor + "=" * (-len(query.cursor) % 4))
        data = orjson.loads(raw)
        key = data["k"]
        fingerprint = data["f"]
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise invalid_parameter("cursor", "not a cursor this registry issued") from None
    if fingerprint != query.fingerprint():
        raise invalid_parameter(
            "cursor", "the cursor belongs to a different query; start again without it"
        )
    if not isinstance(key, list) or not key or not isinstance(key[-1], int):
        raise invalid_parameter("cursor", "not a cursor this registry issued")
    return key


def _picking(
    query: SearchQuery,
    conditions: list[Any],
    sort_expr: ColumnElement[Any] | None,
    descending: bool,
    key: list[Any] | None,
) -> Any:
    """The one statement that picks a page: keyset after the cursor `key`, or by offset."""
    page_conditions = list(conditions)
    if key is not None:
        last_id = key[-1]
        after_id = assets.c.id < last_id if descending else assets.c.id > last_id
        if sort_expr is None:
            page_conditions.append(after_id)
        else:
            if len(key) != 2 or not isinstance(key[0], (int, float, str)):
                raise invalid_parameter("cursor", "not a cursor this registry issued")
            beyond = sort_expr < key[0] if descending else sort_expr > key[0]
            page_conditions.append(or_(beyond, and_(sort_expr == key[0], after_id)))
    columns: list[Any] = [assets.c.id]
    order = []
    if sort_expr is not None:
        columns.append(sort_expr.label("sort_key"))
        order.append(sort_expr.desc() if descending else sort_expr.asc())
    order.append(assets.c.id.desc() if descending else assets.c.id.asc())
    # Two steps: pick the page from the slim assets rows, then read only its documents.
    picking = select(*columns).where(*page_conditions).order_by(*order).limit(query.limit + 1)
    if query.offset and key is None:
        picking = picking.offset(query.offset)
    return picking


async def _pick_by_score(
    conn: AsyncConnection, query: SearchQuery, words: list[str], key: list[Any] | None
) -> list[Any]:
    """The relevance page one score at a time (registry.catalog.ranked_pick), on SQLite."""
    after = None
    if key is not None:
        if len(key) != 2 or type(key[0]) is not int:
            raise invalid_parameter("cursor", "not a cursor this registry issued")
        after = (key[0], key[1])
    skipped = query.offset if key is None else 0
    base = filter_conditions(query, "sqlite", text=False)
    picked = await pick_by_score(conn, words, base, wanted=skipped + query.limit + 1, after=after)
    return picked[skipped:]


# Fractions of a near search's radius tried first. The nearest results of a busy place lie
# well inside its circle: the page is picked from a smaller circle whenever that one holds it.
NEAR_RINGS = (0.25,)


async def _pick_nearest(
    conn: AsyncConnection,
    query: SearchQuery,
    dialect: str,
    sort_expr: ColumnElement[Any],
    key: list[Any] | None,
) -> list[Any]:
    """The distance page from the smallest circle that holds it. Ordered by distance, the
    matches within a smaller circle are the first of all the matches, so if that circle
    holds a full page (and the row that says another page follows), it is the page; a
    circle inside the cursor's distance cannot, and is skipped. So a page near a city centre
    with thousands of matches costs about what its nearest few hundred do."""
    assert query.near is not None
    after = key[0] if key and isinstance(key[0], (int, float)) else 0.0
    for fraction in (*NEAR_RINGS, 1.0):
        km = query.near.km * fraction
        if fraction < 1.0 and km <= after:
            continue
        ring = replace(query, near=replace(query.near, km=km))
        picking = _picking(ring, filter_conditions(ring, dialect), sort_expr, False, key)
        rows = list(await conn.execute(picking))
        if len(rows) > query.limit:
            break
    return rows


async def search(
    engine: AsyncEngine,
    query: SearchQuery,
    cache: FacetCache | None = None,
    count_limit: int | None = None,
    *,
    remember: bool = True,
) -> SearchPage:
    """A page of results; with `query.facets`, the total and facets too, counted exactly or,
    with a `count_limit`, up to that many matches (`total_exact` says which). `remember`
    False: the page's documents are not kept read (registry.catalog.parsed_documents)."""
    dialect = engine.dialect.name
    conditions = filter_conditions(query, dialect)
    sort_expr, descending = _sort_key(query, dialect)
    key = decode_cursor(query)
    words = fulltext.query_words(query.q)
    by_score = dialect == "sqlite" and query.sort == "relevance" and bool(words)
    # PostgreSQL reads every match to rank them: the facets come from the same read.
    one_pass = dialect != "sqlite" and query.sort == "relevance" and count_limit is not None
    want_facets = query.facets and key is None  # numbered pages too: they show the total
    async with db.read(engine) as conn:
        kept = await cache_key(conn, query, count_limit) if cache and want_facets else None
        counted = cache.get(kept) if cache and kept else None
        cached = counted is not None
        picked = None
        if want_facets and counted is None and one_pass and sort_expr is not None:
            assert count_limit is not None
            picked, counted = await ranked_page_and_facets(
                conn, query, conditions, sort_expr, count_limit
            )
        if picked is None:
            if by_score:
                picked = await _pick_by_score(conn, query, words, key)
            elif query.sort == "distance" and sort_expr is not None:
                picked = await _pick_nearest(conn, query, dialect, sort_expr, key)
            else:
                picking = _picking(query, conditions, sort_expr, descending, key)
                picked = list(await conn.execute(picking))
        more = len(picked) > query.limit
        picked = picked[: query.limit]
        rows = {}
        if picked:
            ids = [row.id for row in picked]
            rows = {
                row.id: row
                for row in await conn.execute(select_assets().where(assets.c.id.in_(ids)))
            }
        facets, exact = None, True
        if want_facets:
            if counted is None:
                counted = await facet_counts(conn, conditions, count_limit)
            if cache and kept and not cached:
                cache.put(kept, counted)
            facets, exact = counted
    next_cursor = None
    if more and picked:
        last = picked[-1]
        next_key = [last.id] if sort_expr is None else [last.sort_key, last.id]
        next_cursor = encode_cursor(query, next_key)
    page = SearchPage(
        items=[stored_from_row(rows[row.id], remember=remember) for row in picked],
        next_cursor=next_cursor,
        facets=facets,
        total_exact=exact,
    )
    if facets is not None:  # past the limit: more than `count_limit` (total_exact False)
        page.total = sum(facets["kind"].values()) if exact else count_limit
    if query.sort == "distance":
        page.distances = {row.id: row.sort_key for row in picked}
    return page
