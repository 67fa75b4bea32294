"""Validation of GeoJSON geometry objects (RFC 7946 section 3.1).

Returns a normalised copy holding only `type` and `coordinates` (or `geometries`): foreign
members and `bbox` are dropped, so a stored geometry is exactly what the asset claims.
"""

from __future__ import annotations

import math
from typing import Any

from vocab.errors import ErrorList

MAX_POSITIONS = 10_000
GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)
# How many array levels sit above a position, and the fewest positions a line or ring needs.
_NESTING = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_POSITIONS
        self.exhausted = False


def check_geometry(value: Any, path: str, errs: ErrorList) -> dict[str, Any] | None:
    """A normalised geometry, or None after adding errors under `path`."""
    start = len(errs.items)
    budget = _Budget()
    result = _geometry(value, path, errs, budget, allow_collection=True)
    if budget.exhausted:
        errs.add(path, f"at most {MAX_POSITIONS} positions")
    return result if len(errs.items) == start else None


def _geometry(
    value: Any, path: str, errs: ErrorList, budget: _Budget, allow_collection: bool
) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        errs.add(path, "expected a GeoJSON geometry object")
        return None
    kind = value.get("type")
    if kind not in GEOMETRY_TYPES or (kind == "GeometryCollection" and not allow_collection):
        allowed = GEOMETRY_TYPES if allow_collection else GEOMETRY_TYPES[:-1]
        errs.add(f"{path}.type", f"one of {', '.join(allowed)}")
        return None
    if kind == "GeometryCollection":
        members = value.get("geometries")
        if not isinstance(members, list) or not members:
            errs.add(f"{path}.geometries", "expected a non-empty list of geometries")
            return None
        if len(members) > MAX_POSITIONS:  # refused, not cut short: nothing is silently lost
            errs.add(f"{path}.geometries", f"at most {MAX_POSITIONS} geometries")
            return None
        # RFC 7946 3.1.8: nested collections SHOULD be avoided; we do not accept them.
        parts = [
            _geometry(m, f"{path}.geometries[{i}]", errs, budget, allow_collection=False)
            for i, m in enumerate(members)
        ]
        return {"type": kind, "geometries": parts}
    if "coordinates" not in value:
        errs.add(f"{path}.coordinates", "required")
        return None
    coords = _coordinates(
        value["coordinates"], _NESTING[kind], kind, f"{path}.coordinates", errs, budget
    )
    return {"type": kind, "coordinates": coords}


def _coordinates(
    value: Any, depth: int, kind: str, path: str, errs: ErrorList, budget: _Budget
) -> Any:
    if depth == 0:
        return _position(value, path, errs, budget)
    if not isinstance(value, list) or not value:
        errs.add(path, "expected a non-empty list")
        return None
    items = []
    for i, item in enumerate(value):
        if budget.exhausted:
            break
        items.append(_coordinates(item, depth - 1, kind, f"{path}[{i}]", errs, budget))
    if depth == 1 and not budget.exhausted:
        _check_line(items, kind, path, errs)
    return items


def _check_line(positions: list[Any], kind: str, path: str, errs: ErrorList) -> None:
    if kind in ("LineString", "MultiLineString") and len(positions) < 2:
        errs.add(path, "a line needs at least 2 positions")
    elif kind in ("Polygon", "MultiPolygon"):
        if len(positions) < 4:
            errs.add(path, "a linear ring needs at least 4 positions")
        elif positions[0] != positions[-1]:
            errs.add(path, "a linear ring must end where it starts")


def _position(value: Any, path: str, errs: ErrorList, budget: _Budget) -> list[Any] | None:
    budget.left -= 1
    if budget.left < 0:
        budget.exhausted = True
        return None
    if not isinstance(value, list) or len(value) not in (2, 3):
        errs.add(path, "expected a position [longitude, latitude] or [lon, lat, altitude]")
        return None
    for i, number in enumerate(value):
        if not is_number(number):
            errs.add(f"{path}[{i}]", "expected a number")
            return None
    lon, lat = value[0], value[1]
    if not -180 <= lon <= 180:
        errs.add(f"{path}[0]", "longitude must be between -180 and 180")
    if not -90 <= lat <= 90:
        errs.add(f"{path}[1]", "latitude must be between -90 and 90")
    return list(value)


def is_number(value: Any) -> bool:
    """A finite JSON number (bool is not a number here, though Python says it is an int)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)
