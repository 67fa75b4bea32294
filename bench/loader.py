"""Load generated assets into a node's database through the batch import path
(`registry.catalog.importers.run_import` -> `AssetService.import_batch`), the way
`commons-registry import` does. Run with the node's environment:
`python -m bench.loader COUNT [START]` prints one JSON line with the counts and the time taken
(START: the number of the first generated asset, so that a catalog can be grown in steps)."""

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

    def __init__(self, count: int, start: int = 0) -> None:
        self.count, self.start = count, start

    def rows(self, path: Path) -> Iterator[SourceRow]:
        for n, fields in enumerate(generate(self.count, self.start), self.start):
            yield SourceRow(f"bench:{n}", fields=fields)


async def load(count: int, start: int = 0) -> dict[str, float]:
    settings = load_settings()
    engine = db.create_engine(settings.database_url, pool_size=settings.database.pool_size)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        report = await run_import(
            AssetService(engine, settings), GeneratedSource(count, start), Path("-")
        )
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu  # this process only: under load, steadier than wall time
    finally:
        await engine.dispose()
    return {
        "created": report.created,
        "skipped": report.skipped_total,
        "seconds": seconds,
        "cpu_seconds": cpu,
    }


if __name__ == "__main__":
    start = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    print(orjson.dumps(asyncio.run(load(int(sys.argv[1]), start))).decode())
