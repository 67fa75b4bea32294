"""GeoJSON output, checked against RFC 7946 with a schema written here."""

from __future__ import annotations

import itertools
import json
from typing import Any

import jsonschema

import vocab

from .conftest import expected_meta, expected_record

LON = {"type": "number", "minimum": -180, "maximum": 180}
LAT = {"type": "number", "minimum": -90, "maximum": 90}
POSITION = {
    "type": "array",
    "minItems": 2,
    "maxItems": 3,
    "prefixItems": [LON, LAT],
    "items": {"type": "number"},
}
LINE = {"type": "array", "minItems": 2, "items": POSITION}
RING = {"type": "array", "minItems": 4, "items": POSITION}


def _geometry(kind: str, coordinates: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {"type": {"const": kind}, "coordinates": coordinates},
    }


SIMPLE = [
    _geometry("Point", POSITION),
    _geometry("MultiPoint", {"type": "array", "items": POSITION}),
    _geometry("LineString", LINE),
    _geometry("MultiLineString", {"type": "array", "items": LINE}),
    _geometry("Polygon", {"type": "array", "items": RING}),
    _geometry("MultiPolygon", {"type": "array", "items": {"type": "array", "items": RING}}),
]
GEOMETRY = {
    "oneOf": [
        *SIMPLE,
        {
            "type": "object",
            "required": ["type", "geometries"],
            "properties": {
                "type": {"const": "GeometryCollection"},
                "geometries": {"type": "array", "items": {"oneOf": SIMPLE}},
            },
        },
    ]
}
FEATURE = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"const": "Feature"},
        "id": {"type": ["string", "number"]},
        "geometry": {"oneOf": [{"type": "null"}, GEOMETRY]},
        "properties": {"type": ["object", "null"]},
    },
}
FEATURE_COLLECTION = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": FEATURE},
    },
}


def _rings_close(geometry: dict[str, Any]) -> bool:
    if geometry["type"] == "GeometryCollection":
        return all(_rings_close(g) for g in geometry["geometries"])
    polygons = {
        "Polygon": [geometry.get("coordinates")],
        "MultiPolygon": geometry.get("coordinates"),
    }.get(geometry["type"], [])
    return all(ring[0] == ring[-1] for polygon in polygons for ring in polygon)


def items() -> list[tuple[vocab.AssetRecord, vocab.AssetMeta]]:
    point = vocab.validate_asset_input(
        {
            "name": "Tool library",
            "kind": "tool-library",
            "location": {"latitude": 48.85, "longitude": 2.35},
            "tags": ["tools"],
        }
    )
    nowhere = vocab.validate_asset_input({"name": "Open design", "kind": "open-hardware"})
    mirrored = vocab.AssetMeta(
        iri="https://paris.example/assets/3", origin="https://paris.example/actor"
    )
    return [
        (expected_record(), expected_meta()),
        (point, mirrored),
        (nowhere, vocab.AssetMeta(iri="https://bcn.example.org/assets/4")),
    ]


def test_the_collection_is_valid_geojson() -> None:
    collection = json.loads(json.dumps(vocab.feature_collection(items())))
    jsonschema.validate(collection, FEATURE_COLLECTION)
    assert all(_rings_close(f["geometry"]) for f in collection["features"] if f["geometry"])


def _counter_clockwise(ring: list[list[float]]) -> bool:
    area = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring))
    return area > 0


def test_polygon_rings_follow_rfc_7946_winding() -> None:
    """Exterior rings counter-clockwise, holes clockwise, whatever order they were given in."""
    outer_cw = [[0, 0], [0, 10], [10, 10], [10, 0], [0, 0]]
    hole_ccw = [[2, 2], [4, 2], [4, 4], [2, 4], [2, 2]]
    record = vocab.validate_asset_input(
        {
            "name": "Allotments",
            "kind": "community-garden",
            "geometry": {"type": "MultiPolygon", "coordinates": [[outer_cw, hole_ccw]]},
        }
    )
    feature = vocab.feature(record, vocab.AssetMeta(iri="https://bcn.example.org/assets/5"))
    outer, hole = feature["geometry"]["coordinates"][0]
    assert _counter_clockwise(outer) and not _counter_clockwise(hole)
    assert sorted(map(tuple, outer)) == sorted(map(tuple, outer_cw))
    assert record.geometry["coordinates"][0][0] == outer_cw  # what was stored is kept as given


def test_features_are_every_asset_placed_or_not() -> None:
    features = vocab.feature_collection(items())["features"]
    assert [f["id"] for f in features] == [
        expected_meta().iri,
        "https://paris.example/assets/3",
        "https://bcn.example.org/assets/4",
    ]
    fablab, library, nowhere = features
    assert nowhere["geometry"] is None
    assert fablab["geometry"]["type"] == expected_record().geometry["type"]  # geometry wins
    assert library["geometry"] == {"type": "Point", "coordinates": [2.35, 48.85]}
    assert fablab["properties"] == {
        "id": expected_meta().iri,
        "name": "Fab Lab Poblenou",
        "summary": "Public digital fabrication workshop & training <for everyone>",
        "kind": "fablab",
        "status": "active",
        "tags": ["fablab", "makerspace"],
        "url": expected_meta().url,
        "origin": None,
    }
    assert library["properties"]["origin"] == "https://paris.example/actor"
    assert library["properties"]["url"] == "https://paris.example/assets/3"


def test_a_single_feature_without_a_place_has_a_null_geometry() -> None:
    record, meta = items()[2]
    feature = vocab.feature(record, meta)
    jsonschema.validate(feature, FEATURE)
    assert feature["geometry"] is None


def test_the_schema_here_does_reject_bad_geojson() -> None:
    validator = jsonschema.Draft202012Validator(FEATURE_COLLECTION)
    for bad in (
        {"type": "FeatureCollection"},
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "Point", "coordinates": [200, 0]},
                }
            ],
        },
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]},
                }
            ],
        },
    ):
        assert not validator.is_valid(bad)
