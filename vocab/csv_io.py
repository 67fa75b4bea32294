"""Assets as CSV: one column per flat field, read back through the REST validation.

Lists are joined with `;` (a `;` inside an item is written `\\;`), the location is spread
over `latitude`, `longitude`, `street_address`, `locality`, `region`, `postal_code`,
`country`, and the steward over `steward_name`, `steward_id`; the geometry is a GeoJSON
string. Texts per language have a column each: `name@ca`, `name@es`, `summary@ca`,
`description@es`. Other people's spreadsheets are read through a column mapping
(`{"columns": {"Lab name": "name"}, "defaults": {"kind": "fablab"}}`, JSON or TOML).
"""

from __future__ import annotations

import csv
import json
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from vocab.document import AssetMeta
from vocab.errors import ErrorList, FieldError, ValidationError
from vocab.kinds import Field
from vocab.languages import MAP_FIELDS, LanguageMap, languages_of, texts
from vocab.nested import Record
from vocab.record import FIELDS, AssetRecord, validate_asset_input
from vocab.times import iso_utc

META_COLUMNS = ("id", "url", "published", "updated", "origin")
_MAX_CELL = 4_000_000  # a geometry of 10,000 positions is far above csv's default 128 KiB


def _columns() -> list[tuple[str, Field, Field | None]]:
    """(column, field, sub-field) for every flat column, in field-table order."""
    out: list[tuple[str, Field, Field | None]] = []
    for f in FIELDS:
        if isinstance(f.kind, LanguageMap):
            continue  # a column per language: language_columns
        if isinstance(f.kind, Record):
            out.extend((column, f, sub) for column, sub in f.kind.columns())
        else:
            out.append((f.name, f, None))
    return out


COLUMNS = _columns()
FIELD_COLUMNS: tuple[str, ...] = tuple(c for c, _, _ in COLUMNS)


def language_columns(languages: Iterable[str]) -> list[str]:
    """`name@ca`, `name@es`, `summary@ca`, …: each text field's column per language."""
    tags = sorted(set(languages))
    return [f"{name}@{tag}" for name in MAP_FIELDS for tag in tags]


def language_column(column: str) -> tuple[str, str] | None:
    """(`name`, `ca`) for `name@ca`; None for any other column."""
    name, at, tag = column.partition("@")
    return (name, tag) if at and name in MAP_FIELDS and tag else None


@dataclass(frozen=True)
class ColumnMapping:
    """Which CSV column feeds which flat field, and values for fields the file lacks."""

    columns: dict[str, str]
    defaults: dict[str, Any] = field(default_factory=dict)


def write_csv(
    items: Iterable[tuple[AssetRecord, AssetMeta]],
    fh: TextIO,
    languages: Iterable[str] | None = None,
) -> None:
    """The header and one row per item. `languages` names the per-language columns; without
    it, those of every language the items have (the items are then read first)."""
    if languages is None:
        items = list(items)
        languages = {tag for record, _ in items for tag in languages_of(record)}
    by_language = [language_column(c) for c in language_columns(languages)]
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(META_COLUMNS + FIELD_COLUMNS + tuple(f"{n}@{t}" for n, t in by_language))
    for record, meta in items:
        row = [
            meta.iri,
            meta.url or "",
            iso_utc(meta.published) if meta.published else "",
            iso_utc(meta.updated) if meta.updated else "",
            meta.origin or "",
        ]
        for _, f, sub in COLUMNS:
            value = getattr(record, f.name)
            if sub is not None:
                value = None if value is None else getattr(value, sub.name)
            kind = sub.kind if sub is not None else f.kind
            row.append("" if value is None or value == () else kind.to_cell(value))
        row.extend(texts(record, name).get(tag, "") for name, tag in by_language)
        writer.writerow(row)


def sniff_delimiter(header_line: str) -> str:
    """The separator of a CSV file judged from its header line: comma, semicolon (what
    spreadsheets write in much of Europe) or tab, whichever splits it most."""
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def read_csv(
    fh: TextIO,
    mapping: ColumnMapping | Mapping[str, str] | None = None,
    delimiter: str = ",",
) -> Iterator[tuple[int, AssetRecord | ValidationError]]:
    """Each data row's number (the header is row 1) with its record or its errors.

    Without a mapping, columns named like the flat fields are read and others ignored."""
    for number, result, _ in read_csv_rows(fh, mapping, delimiter):
        yield number, result


def read_csv_rows(
    fh: TextIO,
    mapping: ColumnMapping | Mapping[str, str] | None = None,
    delimiter: str = ",",
) -> Iterator[tuple[int, AssetRecord | ValidationError, str | None]]:
    """As read_csv, with each row's `id` cell (the asset IRI our own export writes) or None."""
    if isinstance(mapping, ColumnMapping):
        plan = mapping
    elif mapping is not None:
        plan = ColumnMapping(dict(mapping))
    else:
        plan = None
    if plan is not None:
        _check_mapping(plan)
    csv.field_size_limit(max(csv.field_size_limit(), _MAX_CELL))
    reader = csv.reader(fh, delimiter=delimiter)
    number = 1
    try:
        header = [h.strip() for h in next(reader, [])]
        columns = plan.columns if plan else {h: h for h in header if _known(h)}
        defaults = plan.defaults if plan else {}
        id_at = header.index("id") if "id" in header and plan is None else None
        for row in reader:
            number += 1
            row_id = row[id_at].strip() or None if id_at is not None and id_at < len(row) else None
            cells = {
                columns[h]: cell
                for h, cell in zip(header, row, strict=False)
                if h in columns and cell.strip()
            }
            if not cells and not any(c.strip() for c in row):
                continue  # blank line
            for target, value in defaults.items():
                cells.setdefault(target, value)
            try:
                yield number, validate_asset_input(_unflatten(cells)), row_id
            except ValidationError as error:
                yield number, error, row_id
    except csv.Error as error:  # a broken file: report where, then stop
        yield number + 1, ValidationError([FieldError("", f"unreadable CSV: {error}")]), None


def _known(column: str) -> bool:
    return column in FIELD_COLUMNS or language_column(column) is not None


def _unflatten(cells: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for column, raw in cells.items():
        found = language_column(column)
        if found:
            data.setdefault(MAP_FIELDS[found[0]], {})[found[1]] = raw
    for column, f, sub in COLUMNS:
        if column not in cells:
            continue
        kind = sub.kind if sub is not None else f.kind
        raw = cells[column]
        value = kind.from_cell(raw) if isinstance(raw, str) else raw
        if sub is None:
            data[f.name] = value
        else:
            data.setdefault(f.name, {})[sub.name] = value
    return data


def load_column_mapping(path: str | Path) -> ColumnMapping:
    """Read a mapping file (`.toml`, else JSON); ValidationError if its content is wrong."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as error:
        raise ValidationError([FieldError("", f"{path.name}: not valid: {error}")]) from None
    errs = ErrorList()
    if not isinstance(raw, dict):
        errs.add("", "expected an object with `columns` and optional `defaults`")
        errs.raise_if_any()
    for key in raw:
        if key not in ("columns", "defaults"):
            errs.add(str(key), "unknown key; expected `columns` and `defaults`")
    columns, defaults = raw.get("columns"), raw.get("defaults", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        errs.add("columns", "expected an object of column name -> field name")
        columns = {}
    if not isinstance(defaults, dict):
        errs.add("defaults", "expected an object of field name -> value")
        defaults = {}
    plan = ColumnMapping({str(k): v for k, v in columns.items()}, dict(defaults))
    _check_mapping(plan, errs)
    return plan


def _check_mapping(plan: ColumnMapping, errs: ErrorList | None = None) -> None:
    errs = errs if errs is not None else ErrorList()
    for column, target in plan.columns.items():
        if not _known(target):
            errs.add(f"columns.{column}", f"unknown field {target!r}")
    for target in plan.defaults:
        if not _known(target):
            errs.add(f"defaults.{target}", "unknown field")
    errs.raise_if_any()
