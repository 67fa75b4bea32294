"""Shape facts about a stored GeoJSON geometry: its bounding box, and RFC 7946 ring order.

Stored geometries are kept as their owners gave them; what goes out in GeoJSON follows RFC 7946
section 3.1.6 (exterior rings counter-clockwise, holes clockwise), which GDAL, QGIS and most
web maps expect.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

BBox = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat


def _positions(geometry: dict[str, Any]) -> Iterator[list[float]]:
    if geometry.get("type") == "GeometryCollection":
        for part in geometry.get("geometries") or ():
            yield from _positions(part)
        return
    stack: list[Any] = [geometry.get("coordinates")]
    while stack:
        item = stack.pop()
        if isinstance(item, list) and item and isinstance(item[0], (int, float)):
            yield item
        elif isinstance(item, list):
            stack.extend(item)


def bbox(geometry: dict[str, Any] | None) -> BBox | None:
    """The smallest lon/lat box around every position, or None for an empty geometry."""
    if not geometry:
        return None
    lons, lats = [], []
    for position in _positions(geometry):
        lons.append(float(position[0]))
        lats.append(float(position[1]))
    if not lons:
        return None
    return (min(lons), min(lats), max(lons), max(lats))


def _signed_area(ring: list[list[float]]) -> float:
    """Twice the signed area (shoelace): positive for a counter-clockwise ring."""
    total = 0.0
    for (x1, y1, *_), (x2, y2, *_) in itertools.pairwise(ring):
        total += x1 * y2 - x2 * y1
    return total


def _oriented(ring: list[list[float]], counter_clockwise: bool) -> list[list[float]]:
    area = _signed_area(ring)
    if area == 0 or (area > 0) == counter_clockwise:
        return ring
    return list(reversed(ring))


def _polygon(rings: list[list[list[float]]]) -> list[list[list[float]]]:
    return [_oriented(ring, index == 0) for index, ring in enumerate(rings)]


def rfc7946(geometry: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy with polygon rings in RFC 7946 order (exterior counter-clockwise, holes
    clockwise); other geometry types unchanged."""
    if geometry is None:
        return None
    kind = geometry.get("type")
    if kind == "Polygon":
        return {"type": kind, "coordinates": _polygon(geometry["coordinates"])}
    if kind == "MultiPolygon":
        return {"type": kind, "coordinates": [_polygon(p) for p in geometry["coordinates"]]}
    if kind == "GeometryCollection":
        return {"type": kind, "geometries": [rfc7946(g) for g in geometry["geometries"]]}
    return geometry


def wkt_point(lon: float, lat: float) -> str:
    return f"POINT({lon!r} {lat!r})"


def wkt_box(box: BBox) -> str:
    """The box as a closed WKT polygon (counter-clockwise, as GeoSPARQL examples write it)."""
    w, s, e, n = box
    return f"POLYGON(({w!r} {s!r},{e!r} {s!r},{e!r} {n!r},{w!r} {n!r},{w!r} {s!r}))"
