"""The import pipeline shared by every source format.

An adapter only reads its format and yields `SourceRow`s (a stable reference and either the
input fields or a reason to skip). Validation, batching, idempotent upserts and the report are
done here once, so adding a source means writing one small adapter.
"""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import vocab
from registry.catalog.assets import AssetService
from registry.core import db
from registry.people import accounts

BATCH_SIZE = 500
# A large import refreshes the planner's statistics whenever it has written as many rows as
# the catalog held when they were last gathered (at least this many): planned on the
# statistics of a near-empty table, the lookup of each batch's existing rows scans the
# tables it grows (PostgreSQL without autovacuum fell to ~400 assets/s by 60,000).
ANALYZE_AFTER = 5_000


@dataclass(frozen=True)
class SourceRow:
    """One record of a source: its stable key, and the asset fields or why it is skipped."""

    ref: str
    fields: dict[str, Any] | None = None
    skip_reason: str | None = None


class Adapter(Protocol):
    name: str
    default_group: tuple[str, str]  # (name, slug) of the group that owns imported assets
    attribution: str | None

    def rows(self, path: Path) -> Iterator[SourceRow]: ...


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def skip(self, reason: str, ref: str) -> None:
        self.skipped[reason] += 1
        examples = self.examples.setdefault(reason, [])
        if len(examples) < 3:
            examples.append(ref)

    def lines(self) -> list[str]:
        out = [
            f"read {self.read} records: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.skipped_total} skipped"
        ]
        for reason, count in self.skipped.most_common():
            out.append(f"  skipped {count}: {reason} (e.g. {', '.join(self.examples[reason])})")
        return out


ADAPTERS: dict[str, Callable[..., Adapter]] = {}


def register(name: str) -> Callable[[Callable[..., Adapter]], Callable[..., Adapter]]:
    def decorate(factory: Callable[..., Adapter]) -> Callable[..., Adapter]:
        ADAPTERS[name] = factory
        return factory

    return decorate


def source_bytes(path: Path) -> bytes:
    """A source file's bytes, gunzipped when its name ends in `.gz`."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix.lower() == ".gz" else data


def _extension(path: Path) -> str:
    """`.json` for both `x.json` and `x.json.gz`."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes[-1:] == [".gz"]:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def adapter_for(path: Path, format_name: str | None, **options: Any) -> Adapter:
    """The adapter named, or the one the file's extension implies."""
    from registry.catalog.importers import csv_source, okw  # noqa: F401  (registers the adapters)

    name = format_name or {".csv": "csv", ".json": "okw"}.get(_extension(path))
    if name not in ADAPTERS:
        known = ", ".join(sorted(ADAPTERS))
        raise ValueError(f"cannot tell the format of {path.name}; pass --format ({known})")
    return ADAPTERS[name](**options)


async def run_import(
    assets: AssetService,
    adapter: Adapter,
    path: Path,
    *,
    group_slug: str | None = None,
    progress: Callable[[int], None] | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Validate every row, then write them in batches; rows that fail are reported, not lost.
    With `dry_run`, report what would change and write nothing."""
    report = ImportReport()
    name, slug = adapter.default_group
    group_id = 0  # a dry run writes nothing, not even the group
    if not dry_run:
        async with db.write(assets.engine) as conn:
            group_id = await accounts.ensure_group(
                conn, name if group_slug is None else group_slug, group_slug or slug
            )
    batch: dict[str, vocab.AssetRecord] = {}
    async with db.read(assets.engine) as conn:
        analyze_at = max(ANALYZE_AFTER, await db.catalog_size(conn))
    analyzed = True  # whether the statistics have seen every row written so far

    async def flush() -> None:
        nonlocal analyze_at, analyzed
        if batch:
            counts = await assets.import_batch(group_id, batch.items(), dry_run=dry_run)
            report.created += counts["created"]
            report.updated += counts["updated"]
            report.unchanged += counts["unchanged"]
            batch.clear()
            if not dry_run and (counts["created"] or counts["updated"]):
                analyzed = False
            if not analyzed and report.created + report.updated >= analyze_at:
                await db.analyze(assets.engine)
                analyze_at *= 2
                analyzed = True

    for row in adapter.rows(path):
        report.read += 1
        if row.skip_reason is not None or row.fields is None:
            report.skip(row.skip_reason or "no data", row.ref)
        elif row.ref in batch:
            report.skip("the same source record appears twice", row.ref)
        else:
            try:
                batch[row.ref] = vocab.validate_asset_input(row.fields)
            except vocab.ValidationError as exc:
                fields_named = ", ".join(sorted({e.field for e in exc.errors}))
                report.skip(f"invalid {fields_named}", row.ref)
        if len(batch) >= BATCH_SIZE:
            await flush()
        if progress is not None:
            progress(report.read)
    await flush()
    if not analyzed:
        await db.analyze(assets.engine)
    return report
