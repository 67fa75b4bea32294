"""Assets as GeoJSON (RFC 7946): one Feature per asset, with a null geometry when it has no
place (RFC 7946 section 3.2 allows it, and GDAL counts such features), polygon rings in RFC 7946
order."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from vocab import geoshape
from vocab.document import AssetMeta
from vocab.record import AssetRecord


def feature_geometry(record: AssetRecord) -> dict[str, Any] | None:
    """The asset's own geometry if it has one, else its location's point, else None."""
    if record.geometry is not None:
        return copy.deepcopy(record.geometry)
    location = record.location
    if location is not None and location.latitude is not None and location.longitude is not None:
        return {"type": "Point", "coordinates": [location.longitude, location.latitude]}
    return None


def feature(record: AssetRecord, meta: AssetMeta) -> dict[str, Any]:
    """One asset as a Feature (its geometry is null when it has no place)."""
    properties: dict[str, Any] = {
        "id": meta.iri,
        "name": record.name,
        "summary": record.summary,
        "kind": record.kind,
        "status": record.status,
        "tags": list(record.tags),
        "url": meta.url or meta.iri,
        "origin": meta.origin,
    }
    return {
        "type": "Feature",
        "id": meta.iri,
        "geometry": geoshape.rfc7946(feature_geometry(record)),
        "properties": properties,
    }


def feature_collection(items: Iterable[tuple[AssetRecord, AssetMeta]]) -> dict[str, Any]:
    """A FeatureCollection of the assets, placed or not."""
    return {"type": "FeatureCollection", "features": [feature(r, m) for r, m in items]}
