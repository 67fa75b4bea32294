"""CSV: one column per flat field; writing then reading gives the same records."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import vocab
from vocab.csv_io import FIELD_COLUMNS, META_COLUMNS

from .conftest import expected_meta, expected_record


def records() -> list[vocab.AssetRecord]:
    return [
        expected_record(),
        vocab.validate_asset_input(
            {
                "name": 'Garden "La Seca"',
                "kind": "community-garden",
                "description": "Line one, with a comma\nline two; with a semicolon\n\nAnd \\ slash",
                "opening_hours": ["Mo-Fr 08:00-12:00; PH off", "Sa 10:00-14:00"],
                "tags": ["huerto", "semi;colon", "back\\\\"],
                "location": {"locality": "Girona", "country": "ES"},
                "steward": {"name": "Veïns"},
                "public_access": True,
                "capacity": 0,
                "geometry": {"type": "Point", "coordinates": [2.8, 41.98]},
            }
        ),
        vocab.validate_asset_input({"name": "Minimal", "kind": "other", "status": "planned"}),
    ]


def meta(i: int) -> vocab.AssetMeta:
    return expected_meta() if i == 0 else vocab.AssetMeta(iri=f"https://n.example/assets/{i}")


def test_write_then_read_gives_the_same_records() -> None:
    fh = io.StringIO()
    vocab.write_csv([(r, meta(i)) for i, r in enumerate(records())], fh)
    fh.seek(0)
    read = list(vocab.read_csv(fh))
    assert [number for number, _ in read] == [2, 3, 4]
    assert [record for _, record in read] == records()


def test_columns_are_flat() -> None:
    fh = io.StringIO()
    vocab.write_csv([(expected_record(), expected_meta())], fh)
    header, row = list(csv.reader(io.StringIO(fh.getvalue())))
    assert header == [*META_COLUMNS, *FIELD_COLUMNS]
    for column in (
        "latitude",
        "longitude",
        "street_address",
        "locality",
        "region",
        "postal_code",
        "country",
        "steward_name",
        "steward_id",
        "tags",
        "geometry",
    ):
        assert column in FIELD_COLUMNS
    assert "location" not in FIELD_COLUMNS and "steward" not in FIELD_COLUMNS
    cells = dict(zip(header, row, strict=True))
    assert cells["tags"] == "fablab;makerspace"
    assert cells["opening_hours"] == "Mo-Fr 10:00-20:00;Sa 10:00-14:00"
    assert cells["id"] == expected_meta().iri
    assert cells["latitude"] == "41.3965" and cells["steward_name"] == "Coop Fabricació"
    assert cells["public_access"] == "true" and cells["free_of_charge"] == "false"
    assert json.loads(cells["geometry"])["type"] == "Polygon"


SPREADSHEET = """Name of makerspace,Town,Postcode,Website / URL,Open to the public?,Tools,Notes
Makespace,Cambridge,CB1 1EE,https://makespace.example/,yes,laser; cnc,ignored
,Leeds,LS1,https://nameless.example/,no,,

Hackspace,London,E2,not a url,maybe,,
"""


def test_a_mapping_file_reads_other_peoples_columns(tmp_path: Path) -> None:
    mapping = {
        "columns": {
            "Name of makerspace": "name",
            "Town": "locality",
            "Postcode": "postal_code",
            "Website / URL": "website",
            "Open to the public?": "public_access",
            "Tools": "amenities",
        },
        "defaults": {"kind": "fablab", "country": "GB"},
    }
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(mapping))
    results = list(vocab.read_csv(io.StringIO(SPREADSHEET), vocab.load_column_mapping(path)))
    assert [number for number, _ in results] == [2, 3, 5]  # the blank row 4 is skipped
    first = results[0][1]
    assert isinstance(first, vocab.AssetRecord)
    assert first.name == "Makespace" and first.kind == "fablab"
    assert first.location == vocab.Location(
        locality="Cambridge", postal_code="CB1 1EE", country="GB"
    )
    assert first.public_access is True and first.amenities == ("laser", "cnc")
    nameless, bad = results[1][1], results[2][1]
    assert isinstance(nameless, vocab.ValidationError)
    assert {e.field for e in nameless.errors} == {"name"}
    assert isinstance(bad, vocab.ValidationError)
    assert {e.field for e in bad.errors} == {"website", "public_access"}


def test_toml_mapping_and_plain_dict_mapping(tmp_path: Path) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(
        '[columns]\n"Name of makerspace" = "name"\n\n[defaults]\nkind = "fablab"\n',
        encoding="utf-8",
    )
    plan = vocab.load_column_mapping(path)
    assert plan == vocab.ColumnMapping({"Name of makerspace": "name"}, {"kind": "fablab"})
    rows = list(vocab.read_csv(io.StringIO(SPREADSHEET), plan))
    assert rows[0][1] == vocab.validate_asset_input({"name": "Makespace", "kind": "fablab"})
    plain = list(
        vocab.read_csv(io.StringIO("Lab,Kind\nFab,fablab\n"), {"Lab": "name", "Kind": "kind"})
    )
    assert plain == [(2, vocab.validate_asset_input({"name": "Fab", "kind": "fablab"}))]


@pytest.mark.parametrize(
    ("content", "fields"),
    [
        ('{"columns": {"A": "nonsense"}}', {"columns.A"}),
        (
            '{"columns": {"A": "name"}, "defaults": {"colour": "red"}, "extra": 1}',
            {"defaults.colour", "extra"},
        ),
        ('{"columns": ["name"]}', {"columns"}),
        ("[1, 2]", {""}),
        ("{not json", {""}),
    ],
)
def test_bad_mapping_files_are_validation_errors(
    tmp_path: Path, content: str, fields: set[str]
) -> None:
    path = tmp_path / "mapping.json"
    path.write_text(content)
    with pytest.raises(vocab.ValidationError) as caught:
        vocab.load_column_mapping(path)
    assert {e.field for e in caught.value.errors} == fields


def test_unknown_columns_are_ignored_without_a_mapping() -> None:
    rows = list(
        vocab.read_csv(
            io.StringIO("name,kind,colour,latitude,longitude\nLab,fablab,red,41.5,abc\n")
        )
    )
    ((number, result),) = rows
    assert number == 2 and isinstance(result, vocab.ValidationError)
    assert [(e.field, e.message) for e in result.errors] == [
        ("location.longitude", "expected a number")
    ]
