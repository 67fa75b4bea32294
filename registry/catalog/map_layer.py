"""What the search page's map draws: every placed result, compactly, or clusters per zoom.

A search with a few thousand placed results is sent as bare points (position, name, page
path) and the browser clusters them. Past `POINT_LIMIT` (a whole 100,000-asset catalog) the
database groups the points into a grid sized for the zoom level and the browser draws one
counted circle per cell, asking again as the view moves. Answers are cached per query, zoom
and view until a write moves `max(change_seq)`, as the facet counts are.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Float, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog.map_grid import View, grid_cell
from registry.catalog.map_summary import BASE_ZOOM, MapSummaries, MapSummary, summarizable
from registry.catalog.search import bbox_conditions, filter_conditions
from registry.catalog.search_query import SearchQuery
from registry.catalog.version import catalog_version
from registry.core import db, iris
from registry.core.schema import LOCAL, assets

POINT_LIMIT = 5000
FOCUS_TRIM = 0.05  # the fitted view leaves out this share of outliers on each side


@dataclass(frozen=True)
class MapRequest:
    zoom: int = 2
    view: View | None = None


class MapCache:
    """Encoded answers of recent map requests, valid while no asset changes."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], body: bytes) -> None:
        self.entries[key] = body
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)


def _trimmed(values: list[tuple[float, int]]) -> tuple[float, float]:
    """The (weighted) FOCUS_TRIM and 1-FOCUS_TRIM quantiles of (value, weight) pairs."""
    ordered = sorted(values)
    total = sum(w for _, w in ordered)
    low_at, high_at = total * FOCUS_TRIM, total * (1 - FOCUS_TRIM)
    low = high = ordered[0][0]
    seen = 0
    for value, weight in ordered:
        if seen <= low_at:
            low = value
        seen += weight
        if seen - weight <= high_at:
            high = value
    return low, high


def focus(weighted: list[tuple[float, float, int]]) -> list[float] | None:
    """The box that holds most results ([min lon, min lat, max lon, max lat]): the view the
    map opens on, so that a few far-off places do not shrink the rest to a dot."""
    if not weighted:
        return None
    min_lat, max_lat = _trimmed([(lat, n) for lat, _, n in weighted])
    min_lon, max_lon = _trimmed([(lon, n) for _, lon, n in weighted])
    return [round(min_lon, 5), round(min_lat, 5), round(max_lon, 5), round(max_lat, 5)]


def _page_path(uid: str, origin: str) -> str:
    return iris.asset_page("", uid, local=origin == LOCAL)  # a path: the map adds its base


def _from_summary(
    summary: MapSummary, query: SearchQuery, where: MapRequest
) -> dict[str, Any] | None:
    """The clustered answer counted from the summary, or None when it would be points."""
    cells = summary.cells(query.kinds, where.zoom, where.view)
    shown = sum(n for _, _, n in cells)
    if shown <= POINT_LIMIT:
        return None  # points need names: the exact path reads them
    totals = {} if where.view else {"placed": shown, "total": summary.total(query.kinds)}
    return _answer(totals, shown, where.zoom, cells, [])


def _answer(
    totals: dict[str, int],
    shown: int,
    zoom: int,
    cells: list[tuple[float, float, int]],
    points: list[list[Any]],
) -> dict[str, Any]:
    """The map answer: the points when there are few enough, else the cells as clusters."""
    clustered = shown > POINT_LIMIT
    return {
        **totals,
        "shown": shown,
        "mode": "clusters" if clustered else "points",
        "zoom": zoom,
        "focus": focus([(p[0], p[1], 1) for p in points] if points else cells),
        "points": points,
        "clusters": [[round(a, 5), round(b, 5), n] for a, b, n in cells] if clustered else [],
    }


async def map_layer(
    engine: AsyncEngine,
    query: SearchQuery,
    where: MapRequest,
    cache: MapCache | None = None,
    summaries: MapSummaries | None = None,
) -> bytes:
    """The encoded map answer: {total, placed, shown, mode, zoom, focus, points, clusters};
    points are [lat, lon, name, page path], clusters [lat, lon, count]. With a `view`, total
    and placed are left out (the map has them from its first, whole answer). With
    `summaries`, a public answer in clusters may come from the catalog's map summary."""
    dialect = engine.dialect.name
    conditions = filter_conditions(query, dialect)
    lat, lon = assets.c.latitude, assets.c.longitude
    in_view = [lat.is_not(None), lon.is_not(None)]
    if where.view:
        in_view += bbox_conditions(where.view)
    if summaries is not None and not (summarizable(query) and where.zoom <= BASE_ZOOM):
        summaries = None
    async with db.read(engine) as conn:
        latest = await catalog_version(conn)
        key = (query.fingerprint(), where.zoom, where.view, POINT_LIMIT, latest)
        if cache is not None and (hit := cache.get(key)) is not None:
            return hit
        if summaries is not None:
            # Kept up with the catalog while it is big enough to be clustered (as the last
            # summary, or the exact answer below, says): a small one is answered in points.
            last = summaries.current
            if last is not None and last.placed(()) > POINT_LIMIT:
                summaries.keep_up(engine, latest)
            summary = summaries.usable(latest)
            if summary is not None and (counted := _from_summary(summary, query, where)):
                return orjson.dumps(counted)  # not cached: it may be behind `latest`
        # One pass over the covering index: the grid of this zoom. Its counts add up to
        # what is shown; only a small answer then reads names for single points.
        grid = (
            select(func.count(), cast(func.avg(lat), Float), cast(func.avg(lon), Float))
            .where(*conditions, *in_view)
            .group_by(grid_cell(dialect, where.zoom))
        )
        cells = [(a, b, n) for n, a, b in await conn.execute(grid)]
        shown = sum(n for _, _, n in cells)
        if summaries is not None and shown > POINT_LIMIT:
            summaries.keep_up(engine, latest)
        totals: dict[str, int] = {}
        if not where.view:  # results without a place: few, and found by the same index
            unplaced = select(func.count()).where(*conditions, lat.is_(None))
            totals["placed"] = shown
            totals["total"] = shown + ((await conn.execute(unplaced)).scalar() or 0)
        points: list[list[Any]] = []
        if shown <= POINT_LIMIT:
            rows = await conn.execute(
                select(lat, lon, assets.c.name, assets.c.uid, assets.c.origin).where(
                    *conditions, *in_view
                )
            )
            for r in rows:
                points.append([round(r[0], 5), round(r[1], 5), r[2], _page_path(r[3], r[4])])
    body = orjson.dumps(_answer(totals, shown, where.zoom, cells, points))
    if cache is not None:
        cache.put(key, body)
    return body
