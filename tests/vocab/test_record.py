"""The asset record: REST validation, JSON Schema, merge patches."""

from __future__ import annotations

import copy
import math
import random
from typing import Any

import jsonschema
import pytest

import vocab
from vocab.geometry import MAX_POSITIONS
from vocab.record import FIELDS

from .conftest import expected_record, load

FULL = load("expected-record.json")


def errors_of(data: Any) -> dict[str, str]:
    with pytest.raises(vocab.ValidationError) as caught:
        vocab.validate_asset_input(data)
    assert all(isinstance(e, vocab.FieldError) for e in caught.value.errors)
    return {e.field: e.message for e in caught.value.errors}


def test_a_full_asset_validates_and_round_trips_through_json() -> None:
    record = vocab.validate_asset_input(FULL)
    assert record.to_json() == FULL
    assert vocab.validate_asset_input(record.to_json()) == record
    assert record.location == vocab.Location(
        41.3965, 2.1943, "C/ Example 1", "Barcelona", "Catalunya", "08005", "ES"
    )
    assert record.steward == vocab.Steward("Coop Fabricació", "https://coop-fabricacio.example/")
    assert isinstance(record.tags, tuple)
    hash(record)  # frozen and hashable, geometry aside


def test_the_minimum_and_the_defaults() -> None:
    record = vocab.validate_asset_input({"name": "Garden", "kind": "community-garden"})
    assert record.status == "active"
    assert record.tags == () and record.location is None
    assert record.to_json() == {"name": "Garden", "kind": "community-garden", "status": "active"}


def test_values_are_normalised() -> None:
    record = vocab.validate_asset_input(
        {
            "name": "  Jardí \t del\nPoblenou ",
            "kind": " Community-Garden ",
            "summary": "Neighbours   grow food",
            "description": "First line   \r\nsecond\r\n\r\n\r\nthird  \n\n",
            "license": "cc-by-sa-4.0",
            "access_rights": "NON_PUBLIC",
            "location": {"country": "es", "locality": " Barcelona "},
            "tags": ["#Garden", "garden", " food ", "GARDEN", "#comida"],
            "steward": {"name": "Veïns", "id": None},
            "same_as": [],
            "amenities": [],
        }
    )
    assert record.name == "Jardí del Poblenou"
    assert record.kind == "community-garden"
    assert record.summary == "Neighbours grow food"
    assert record.description == "First line\nsecond\n\n\nthird"
    assert record.license == "CC-BY-SA-4.0"
    assert record.access_rights == "non_public"
    assert record.location == vocab.Location(country="ES", locality="Barcelona")
    assert record.tags == ("Garden", "food", "comida")
    assert record.steward == vocab.Steward("Veïns")
    assert record.same_as == () and record.amenities == ()


def test_every_bad_field_is_named_with_its_path() -> None:
    bad = {
        **FULL,
        "name": "x" * 201,
        "kind": "castle",
        "summary": "s" * 501,
        "description": "d" * 20_001,
        "ownership_model": "feudal",
        "governance_model": 7,
        "status": "maybe",
        "steward": {"id": "ftp://coop.example/"},
        "access_conditions": "a" * 2001,
        "access_rights": "everyone",
        "public_access": "yes",
        "free_of_charge": 0,
        "license": "Proprietary-1.0",
        "location": {"latitude": 123, "longitude": "2", "country": "Spain", "street": "x"},
        "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
        "tags": ["ok", "two words", "", 7, "t" * 65],
        "website": "javascript:alert(1)",
        "same_as": [f"https://ok.example/{i}" for i in range(21)],
        "email": "not-an-email",
        "telephone": "call me",
        "opening_hours": [f"Mo-Fr 10:00-{i}:00" for i in range(15)],
        "capacity": -1,
        "amenities": "laser",
        "identifier": {"id": 1},
        "derived_from": "/relative/path",
        "colour": "green",
    }
    assert set(errors_of(bad)) == {
        "name",
        "kind",
        "summary",
        "description",
        "ownership_model",
        "governance_model",
        "status",
        "steward.name",
        "steward.id",
        "access_conditions",
        "access_rights",
        "public_access",
        "free_of_charge",
        "license",
        "location.latitude",
        "location.longitude",
        "location.country",
        "location.street",
        "geometry.coordinates[0]",
        "tags[1]",
        "tags[2]",
        "tags[3]",
        "tags[4]",
        "website",
        "same_as",
        "email",
        "telephone",
        "opening_hours",
        "capacity",
        "amenities",
        "identifier",
        "derived_from",
        "colour",
    }


def test_messages_help() -> None:
    found = errors_of({"name": "x", "kind": "fablab", "summry": "typo"})
    assert found == {"summry": "unknown field; did you mean 'summary'?"}
    assert "one of community-land-trust" in errors_of({"name": "x", "kind": "castle"})["kind"]
    assert errors_of({"kind": "fablab"}) == {"name": "required"}
    assert errors_of({"name": " \n ", "kind": "fablab"}) == {"name": "required"}
    assert errors_of([]) == {"": "expected a JSON object"}


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "\x7f", "esc\x1b[31m", "\ud800", "\x85"])
def test_control_characters_and_broken_unicode_are_refused(text: str) -> None:
    assert "name" in errors_of({"name": text, "kind": "fablab"})
    assert "description" in errors_of({"name": "x", "kind": "fablab", "description": text})


def test_coordinates_come_in_pairs_and_in_range() -> None:
    def location(**values: Any) -> dict[str, str]:
        return errors_of({"name": "x", "kind": "fablab", "location": values})

    assert location(latitude=41.0) == {
        "location.longitude": "latitude and longitude go together: give both or neither"
    }
    assert set(location(latitude=math.nan, longitude=math.inf)) == {
        "location.latitude",
        "location.longitude",
    }
    assert set(location(latitude=True, longitude=2)) == {"location.latitude"}
    assert set(location(latitude=10**400, longitude=-181)) == {
        "location.latitude",
        "location.longitude",
    }
    ok = vocab.validate_asset_input(
        {"name": "x", "kind": "fablab", "location": {"latitude": -90, "longitude": 180}}
    )
    assert ok.location == vocab.Location(-90.0, 180.0)


@pytest.mark.parametrize(
    ("geometry", "field"),
    [
        ({"type": "Circle", "coordinates": [0, 0]}, "geometry.type"),
        ({"type": "Point"}, "geometry.coordinates"),
        ({"type": "Point", "coordinates": [0]}, "geometry.coordinates"),
        ({"type": "Point", "coordinates": [0, 91]}, "geometry.coordinates[1]"),
        ({"type": "LineString", "coordinates": [[0, 0]]}, "geometry.coordinates"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}, "geometry.coordinates[0]"),
        ({"type": "MultiPoint", "coordinates": [[0, 0], ["a", 1]]}, "geometry.coordinates[1][0]"),
        (
            {
                "type": "GeometryCollection",
                "geometries": [{"type": "GeometryCollection", "geometries": []}],
            },
            "geometry.geometries[0].type",
        ),
        ({"type": "MultiPoint", "coordinates": [[0, 0]] * (MAX_POSITIONS + 1)}, "geometry"),
        ("POINT(0 0)", "geometry"),
    ],
)
def test_geometry_follows_rfc_7946(geometry: Any, field: str) -> None:
    assert field in errors_of({"name": "x", "kind": "fablab", "geometry": geometry})


def test_geometry_keeps_only_what_geojson_defines() -> None:
    record = vocab.validate_asset_input(
        {
            "name": "x",
            "kind": "fablab",
            "geometry": {
                "type": "GeometryCollection",
                "bbox": [0, 0, 1, 1],
                "style": "red",
                "geometries": [
                    {"type": "Point", "coordinates": [1, 2, 3]},
                    {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                ],
            },
        }
    )
    assert record.geometry == {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Point", "coordinates": [1, 2, 3]},
            {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
        ],
    }


def test_list_limits_apply_after_deduplication() -> None:
    tags = [f"t{i}" for i in range(30)] + ["T0", "#t1"]
    assert len(vocab.validate_asset_input({"name": "x", "kind": "fablab", "tags": tags}).tags) == 30
    assert errors_of({"name": "x", "kind": "fablab", "tags": [*tags, "t30"]}) == {
        "tags": "at most 30 items"
    }


def _junk(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(12 if depth < 4 else 8)
    scalars = [
        None,
        True,
        False,
        0,
        -1,
        10**30,
        1.5,
        math.nan,
        math.inf,
        "",
        "x" * 300_000,
        "\x00",
        "\ud83d",
        "fablab",
        "https://ok.example/",
        [],
        {},
    ]
    if choice < 8:
        return rng.choice(scalars)
    if choice < 10:
        return [_junk(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(["type", "coordinates", "name", "id", "latitude", "x", 3]): _junk(rng, depth + 1)
        for _ in range(rng.randrange(4))
    }


def test_no_input_of_any_type_raises_anything_but_a_validation_error() -> None:
    rng = random.Random(7)
    names = [f.name for f in FIELDS]
    deep: Any = []
    for _ in range(50_000):
        deep = [deep]
    inputs: list[Any] = [
        None,
        1,
        "x",
        [],
        deep,
        {"geometry": deep},
        {"tags": deep},
        {"location": {"latitude": deep}},
        object(),
        {1: 2, None: 3},
    ]
    for _ in range(2000):
        inputs.append({rng.choice(names): _junk(rng) for _ in range(rng.randrange(1, 6))})
        valid = copy.deepcopy(FULL)
        valid[rng.choice(names)] = _junk(rng)
        inputs.append(valid)
    schema = jsonschema.Draft202012Validator(vocab.asset_json_schema())
    accepted = 0
    for data in inputs:
        try:
            record = vocab.validate_asset_input(data)
        except vocab.ValidationError as error:
            assert error.errors and len(error.errors) <= 100
            continue
        accepted += 1
        assert isinstance(record, vocab.AssetRecord)
        problems = [e.message[:200] for e in schema.iter_errors(data)]
        # the schema never refuses what validation takes (bar padding that validation strips)
        assert not problems, problems
    assert accepted > 100


def test_json_schema_describes_the_rest_form() -> None:
    schema = vocab.asset_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["required"] == ["name", "kind"]
    assert schema["additionalProperties"] is False
    assert list(schema["properties"]) == [f.name for f in FIELDS]
    assert schema["properties"]["kind"]["enum"] == vocab.slugs("kinds")
    assert schema["properties"]["location"]["properties"]["latitude"]["maximum"] == 90
    assert schema["properties"]["steward"]["required"] == ["name"]
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(FULL)
    for bad in (
        {**FULL, "colour": "red"},
        {**FULL, "kind": "castle"},
        {"name": "x"},
        {**FULL, "capacity": -1},
        {**FULL, "location": {"latitude": "x"}},
    ):
        assert not validator.is_valid(bad)


def test_merge_patch_follows_rfc_7396() -> None:
    record = expected_record()
    patched = vocab.patch_record(
        record,
        {
            "summary": None,
            "location": {"postal_code": None, "locality": "Badalona"},
            "tags": ["new"],
            "capacity": 12,
        },
    )
    assert patched.summary is None
    assert patched.location == vocab.Location(
        41.3965, 2.1943, "C/ Example 1", "Badalona", "Catalunya", None, "ES"
    )
    assert patched.tags == ("new",)
    assert patched.capacity == 12
    assert patched.name == record.name and patched.geometry == record.geometry
    assert vocab.patch_record(record, {}) == record
    moved = vocab.patch_record(record, {"geometry": {"type": "Point", "coordinates": [2, 41]}})
    assert moved.geometry == {"type": "Point", "coordinates": [2, 41]}
    with pytest.raises(vocab.ValidationError) as caught:
        vocab.patch_record(record, {"name": None, "colour": "red", "location": {"latitude": None}})
    assert {e.field for e in caught.value.errors} == {"name", "colour", "location.latitude"}
    with pytest.raises(vocab.ValidationError):
        vocab.patch_record(record, ["not", "an", "object"])  # type: ignore[arg-type]
    deep: dict[str, Any] = {}
    for _ in range(50_000):
        deep = {"location": deep}
    with pytest.raises(vocab.ValidationError):
        vocab.patch_record(record, deep)
    many = {f"junk{i}": i for i in range(100_000)}
    with pytest.raises(vocab.ValidationError) as caught:
        vocab.validate_asset_input({**FULL, **many})
    assert len(caught.value.errors) == 100
