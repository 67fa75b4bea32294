"""The map's grid: cells a quarter of a 256 px tile wide at each zoom, numbered from (-90, -180).

A cell at zoom z is exactly four cells of zoom z + 1 (the cell size halves and the grid's
corner stays put), so cells counted at a fine zoom add up to the cells of every coarser one
(registry.catalog.map_summary relies on it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, cast, func

from registry.core.schema import assets

CELLS_PER_TILE = 4  # a grid cell is a quarter of a 256 px tile: clusters ~64 px apart
MAX_ZOOM = 19
GRID_COLUMNS = 1 << 23  # more cells across than the finest zoom has

View = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat


def cell_degrees(zoom: int) -> float:
    return 360.0 / (2 ** max(0, min(zoom, MAX_ZOOM)) * CELLS_PER_TILE)


def grid_cell(dialect: str, zoom: int) -> Any:
    """The grid cell of a row at this zoom, as one integer (one key sorts faster than two):
    row * GRID_COLUMNS + column."""
    lat, lon = assets.c.latitude, assets.c.longitude
    cell = cell_degrees(zoom)
    if dialect == "sqlite":  # positive before the cast, so the cast floors
        row_of = cast((lat + 90.0) / cell, BigInteger)
        col_of = cast((lon + 180.0) / cell, BigInteger)
    else:
        row_of = cast(func.floor((lat + 90.0) / cell), BigInteger)
        col_of = cast(func.floor((lon + 180.0) / cell), BigInteger)
    return row_of * GRID_COLUMNS + col_of


def in_view(view: View, lat: float, lon: float) -> bool:
    """Whether a position lies in the box; a box may cross the antimeridian."""
    min_lon, min_lat, max_lon, max_lat = view
    if not min_lat <= lat <= max_lat:
        return False
    if min_lon <= max_lon:
        return min_lon <= lon <= max_lon
    return lon >= min_lon or lon <= max_lon
