"""CSV files, with an optional column-mapping file for other people's column names.

The separator (comma, semicolon or tab) is read from the header line. The text must be UTF-8
unless another encoding is named: a file in another encoding is refused with a message that
says which option to use, never half-read. A row of our own export keeps its `id` (the asset's
IRI), so an edited export updates the assets it came from instead of adding copies.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import vocab
from registry.catalog.asset_batches import IRI_REF
from registry.catalog.importers.base import SourceRow, register


class CsvAdapter:
    name = "csv"
    attribution = None

    def __init__(
        self,
        mapping: str | None = None,
        group: tuple[str, str] | None = None,
        encoding: str | None = None,
    ) -> None:
        self.mapping = vocab.load_column_mapping(mapping) if mapping else None
        self.default_group = group or ("CSV import", "csv-import")
        self.encoding = encoding

    def text(self, path: Path) -> str:
        raw = path.read_bytes()
        encoding = self.encoding or "utf-8-sig"
        try:
            return raw.decode(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            hint = (
                "save it as UTF-8, or name its encoding with --encoding "
                "(spreadsheets in Western Europe often write cp1252 or latin-1)"
            )
            raise ValueError(
                f"{path.name} is not {encoding} text (byte 0x{raw[error.start]:02x} on line "
                f"{line}): {hint}"
            ) from None

    def rows(self, path: Path) -> Iterator[SourceRow]:
        text = self.text(path)
        header = text.split("\n", 1)[0]
        delimiter = vocab.sniff_delimiter(header)
        columns = {c.strip().strip('"') for c in header.split(delimiter)}
        if self.mapping is None and not columns & set(vocab.csv_io.FIELD_COLUMNS):
            raise ValueError(
                f"{path.name}: no column is named like an asset field (name, kind, …); "
                "name your columns so, or pass --mapping FILE"
            )
        lines = text.splitlines(keepends=True)
        for number, result, row_id in vocab.read_csv_rows(iter(lines), self.mapping, delimiter):
            ref = f"csv:{path.name}:{number}"
            if isinstance(result, vocab.ValidationError):
                fields_named = ", ".join(sorted({e.field for e in result.errors}))
                yield SourceRow(ref, skip_reason=f"invalid {fields_named}")
                continue
            record = result
            key = record.identifier or record.derived_from
            if row_id and row_id.startswith(("http://", "https://")):
                ref = IRI_REF + row_id
            elif key:
                ref = f"csv:{key}"
            yield SourceRow(ref, fields=record.to_json())


register("csv")(CsvAdapter)
