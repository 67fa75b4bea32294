"""Load generated assets into a node's database through the batch import path
(`registry.catalog.importers.run_import` -> `AssetService.import_batch`), the way
`commons-registry import` does. Run with the node's environment:
`python -m bench.loader COUNT` prints one JSON line with the counts and the time taken."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

from bench.dataset import generate
from registry.catalog.assets import AssetService
from registry.catalog.importers import SourceRow, run_import
from registry.config import load_settings
from registry.core import db


class GeneratedSource:
    name = "bench"
    default_group = ("Benchmark data (from Open Know-Where fablabs)", "bench")
    attribution = None

    def __init__(self, count: int) -> None:
        self.count = count

    def rows(self, path: Path) -> Iterator[SourceRow]:
        for n, fields in enumerate(generate(self.count)):
            yield SourceRow(f"bench:{n}", fields=fields)


async def load(count: int) -> dict[str, float]:
    settings = load_settings()
    engine = db.create_engine(settings.database_url, pool_size=settings.database.pool_size)
    try:
        started = time.perf_counter()
        report = await run_import(AssetService(engine, settings), GeneratedSource(count), Path("-"))
        seconds = time.perf_counter() - started
    finally:
        await engine.dispose()
    return {"created": report.created, "skipped": report.skipped_total, "seconds": seconds}


if __name__ == "__main__":
    print(orjson.dumps(asyncio.run(load(int(sys.argv[1])))).decode())
