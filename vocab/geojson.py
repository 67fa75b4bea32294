"""Assets as GeoJSON (RFC 7946): one Feature per asset that has a place on the map."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

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
        "geometry": feature_geometry(record),
        "properties": properties,
    }


def feature_collection(items: Iterable[tuple[AssetRecord, AssetMeta]]) -> dict[str, Any]:
    """A FeatureCollection of the assets that can be put on a map; others are left out."""
    features = (feature(record, meta) for record, meta in items)
    return {
        "type": "FeatureCollection",
        "features": [f for f in features if f["geometry"] is not None],
    }
