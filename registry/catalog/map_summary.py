"""The public catalog's map, counted ahead: placed assets per grid cell and kind.

A whole-world map answer groups every placed asset into the zoom's grid: at a million assets
that reads a million index entries, 300-400 ms for each first answer of a zoom and kind, and
under federation the catalog's version moves every few seconds, so the answer cache
(registry.catalog.map_layer) seldom holds. The summary counts the published public catalog
once, per kind on the grid of BASE_ZOOM; every coarser zoom's cells are sums of its cells
(registry.catalog.map_grid), so such an answer adds up thousands of cells, not a million rows.

It serves the map of the public catalog, filtered by kind at most, at zooms up to BASE_ZOOM
(closer views hold few assets and are counted exactly). Inside a view, a cell counts when its
centre of mass does. When the catalog has moved, a request that could use the summary starts
a rebuild in the background and is answered from the old one while that is at most `max_age`
seconds old: an answer seconds behind the catalog, as a tile cache's is. Past that age the
exact count answers until the rebuild is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import cached_property

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog.map_grid import GRID_COLUMNS, View, grid_cell, in_view
from registry.catalog.search import filter_conditions
from registry.catalog.search_query import SearchQuery
from registry.catalog.version import catalog_version
from registry.core import db
from registry.core.schema import assets

log = logging.getLogger(__name__)

BASE_ZOOM = 8  # cells of ~0.35 degrees; a view closer than this is counted exactly
RETRY_SECONDS = 10.0  # after a failed build, before another is tried
ALL_KINDS = ""

Cell = tuple[float, float, int]  # centre latitude, centre longitude, assets
_PLAIN = SearchQuery(sort="", limit=0)


def summarizable(query: SearchQuery) -> bool:
    """Whether the query is the public catalog filtered by kind at most."""
    return replace(query, kinds=(), sort="", limit=0, cursor=None, facets=True) == _PLAIN


@dataclass
class MapSummary:
    version: int  # the catalog version it counts
    read_at: float  # monotonic time of that reading: how far behind it may be
    base: dict[str, list[tuple[int, int, int, float, float]]]  # kind: row, col, n, Σlat, Σlon
    unplaced: dict[str, int]
    _zooms: dict[tuple[int, str], list[Cell]] = field(default_factory=dict)

    def placed(self, kinds: tuple[str, ...]) -> int:
        return sum(self.placed_by_kind.get(kind, 0) for kind in self._kinds(kinds))

    @cached_property
    def placed_by_kind(self) -> dict[str, int]:
        return {kind: sum(c[2] for c in cells) for kind, cells in self.base.items()}

    def total(self, kinds: tuple[str, ...]) -> int:
        return self.placed(kinds) + sum(self.unplaced.get(k, 0) for k in kinds or self.unplaced)

    def cells(self, kinds: tuple[str, ...], zoom: int, view: View | None) -> list[Cell]:
        """The grid cells at `zoom` (at most BASE_ZOOM) of the assets of these kinds (any
        kind when none), those in `view` when there is one."""
        key = (zoom, ",".join(sorted(kinds)) if kinds else ALL_KINDS)
        found = self._zooms.get(key)
        if found is None:
            found = self._zooms[key] = self._merge(self._kinds(kinds), BASE_ZOOM - zoom)
        if view is None:
            return found
        return [cell for cell in found if in_view(view, cell[0], cell[1])]

    def _kinds(self, kinds: tuple[str, ...]) -> list[str]:
        return [k for k in kinds if k in self.base] if kinds else list(self.base)

    def _merge(self, kinds: list[str], shift: int) -> list[Cell]:
        sums: dict[tuple[int, int], list[float]] = {}
        for kind in kinds:
            for row, col, n, lat_sum, lon_sum in self.base[kind]:
                at = (row >> shift, col >> shift)
                found = sums.get(at)
                if found is None:
                    sums[at] = [n, lat_sum, lon_sum]
                else:
                    found[0] += n
                    found[1] += lat_sum
                    found[2] += lon_sum
        return [(lat / n, lon / n, int(n)) for n, lat, lon in sums.values()]


async def build_summary(engine: AsyncEngine) -> MapSummary:
    """Count the published public catalog per kind and BASE_ZOOM cell, in one read."""
    conditions = filter_conditions(_PLAIN, engine.dialect.name)
    lat, lon = assets.c.latitude, assets.c.longitude
    cell = grid_cell(engine.dialect.name, BASE_ZOOM)
    base: dict[str, list[tuple[int, int, int, float, float]]] = defaultdict(list)
    unplaced: dict[str, int] = {}
    async with db.read(engine) as conn:
        read_at = time.monotonic()
        version = await catalog_version(conn)
        placed = await conn.execute(
            select(assets.c.kind, cell, func.count(), func.sum(lat), func.sum(lon))
            .where(*conditions, lat.is_not(None), lon.is_not(None))
            # Cell first: grouped by kind first, SQLite reads the rows in kind order from the
            # facets index and fetches each position from the table (16 s at 1M, not 4).
            .group_by(cell, assets.c.kind)
        )
        for kind, at, n, lat_sum, lon_sum in placed:
            row, col = divmod(int(at), GRID_COLUMNS)
            base[kind].append((row, col, int(n), float(lat_sum), float(lon_sum)))
        no_place = select(assets.c.kind, func.count()).where(*conditions, lat.is_(None))
        for kind, n in await conn.execute(no_place.group_by(assets.c.kind)):
            unplaced[kind] = int(n)
    return MapSummary(version=version, read_at=read_at, base=dict(base), unplaced=unplaced)


class MapSummaries:
    """The node's current summary, rebuilt in the background when the catalog has moved."""

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self.current: MapSummary | None = None
        self._task: asyncio.Task[None] | None = None
        self._retry_after = 0.0

    def usable(self, latest: int) -> MapSummary | None:
        """The summary if it counts version `latest`, or is at most `max_age` seconds old."""
        summary = self.current
        if summary is None:
            return None
        if summary.version == latest or time.monotonic() - summary.read_at <= self.max_age:
            return summary
        return None

    def keep_up(self, engine: AsyncEngine, latest: int) -> None:
        """Rebuild (`rebuild`) if the summary does not count version `latest`."""
        if self.current is None or self.current.version != latest:
            self.rebuild(engine)

    def rebuild(self, engine: AsyncEngine) -> None:
        """Start counting the catalog in the background, unless that is under way (or the
        last count failed moments ago)."""
        if self._task is not None and not self._task.done():
            return
        if time.monotonic() < self._retry_after:
            return
        self._task = asyncio.get_running_loop().create_task(self._build(engine))

    async def _build(self, engine: AsyncEngine) -> None:
        try:
            self.current = await build_summary(engine)
        except Exception:  # the exact count answers meanwhile
            log.warning("map summary: rebuild failed", exc_info=True)
            self._retry_after = time.monotonic() + RETRY_SECONDS

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
