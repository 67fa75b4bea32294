"""B2: a node mirrors a partner's catalog over loopback (`partner add`, then `sync`: the first
sync is the backfill). Baseline: fetching the same raw changes-feed pages, bytes/s."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import httpx
import orjson

from bench.results import Figure
from bench.servers import Cluster

REPORT = re.compile(r"(\d+) pages, (\d+) created.* in ([\d.]+) s")


def load(node, count: int, start: int = 0) -> dict:  # type: ignore[no-untyped-def]
    """Batch-import `count` generated assets, numbered from `start`, into a node
    (bench.loader in the node's env)."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.loader", str(count), str(start)],
        env=node.env(),
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"loading {count} assets failed:\n{result.stderr[-3000:]}")
    return orjson.loads(result.stdout.strip().splitlines()[-1])


async def raw_pages(base_url: str) -> dict:
    """Every page of the changes feed, fetched one after the other as a sync does."""
    pages, size, items = 0, 0, 0
    async with httpx.AsyncClient(headers={"Accept": "application/activity+json"}) as client:
        started = time.perf_counter()
        url: str | None = f"{base_url}/changes?since=0"
        while url:
            response = await client.get(url)
            response.raise_for_status()
            size += len(response.content)
            page = orjson.loads(response.content)
            items += len(page.get("orderedItems", []))
            pages += 1
            url = page.get("next")
        seconds = time.perf_counter() - started
    return {"pages": pages, "bytes": size, "items": items, "seconds": seconds}


async def run(cluster: Cluster, size: dict) -> Figure:
    count = size["b2_assets"]
    origin = cluster.node("b2-origin", start=False)
    loaded = load(origin, count)
    origin.start()
    mirror = cluster.node("b2-mirror", start=False)  # so that only the timed sync mirrors
    mirror.cli("partner", "add", origin.base_url)
    fetched = await raw_pages(origin.base_url)
    out = mirror.cli("sync", timeout=3600)
    found = REPORT.search(out)
    if not found:
        raise RuntimeError(f"no sync report in:\n{out}")
    pages, created, seconds = int(found[1]), int(found[2]), float(found[3])
    rate = created / seconds if seconds else 0.0
    raw_rate = fetched["items"] / fetched["seconds"]
    return Figure(
        id="B2",
        db=cluster.db,
        what=f"backfill of a {count:,}-asset partner catalog",
        value=rate,
        unit="assets/s",
        baseline=raw_rate,
        baseline_what=(
            f"raw pages: {fetched['bytes'] / fetched['seconds'] / 1e6:.1f} MB/s = assets/s"
        ),
        target=">= 3,000 assets/s (issue 20)",
        met=rate >= 3000 and created == count,
        details={
            "assets": count,
            "created": created,
            "pages": pages,
            "sync_seconds": seconds,
            "raw_fetch": fetched,
            "raw_bytes_per_second": fetched["bytes"] / fetched["seconds"],
            "origin_import": loaded,
            "sync_report": out.strip().splitlines()[-1],
        },
    )
