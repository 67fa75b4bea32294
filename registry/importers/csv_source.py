"""CSV files, with an optional column-mapping file for other people's column names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import vocab
from registry.importers.base import SourceRow, register


class CsvAdapter:
    name = "csv"
    attribution = None

    def __init__(self, mapping: str | None = None, group: tuple[str, str] | None = None) -> None:
        self.mapping = vocab.load_column_mapping(mapping) if mapping else None
        self.default_group = group or ("CSV import", "csv-import")

    def rows(self, path: Path) -> Iterator[SourceRow]:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            for number, result in vocab.read_csv(fh, self.mapping):
                ref = f"csv:{path.name}:{number}"
                if isinstance(result, vocab.ValidationError):
                    fields_named = ", ".join(sorted({e.field for e in result.errors}))
                    yield SourceRow(ref, skip_reason=f"invalid {fields_named}")
                else:
                    record = result
                    key = record.identifier or record.derived_from
                    yield SourceRow(f"csv:{key}" if key else ref, fields=record.to_json())


register("csv")(CsvAdapter)
