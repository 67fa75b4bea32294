"""B7: how each cost grows with the catalog (10,000, 100,000 and 1,000,000 assets at full size).

One node per database is grown in steps through the batch import path (`bench.loader`); after
each step the server is started and measured, then stopped for the next step:

- import: assets/s of the step (the batch path, `run_import` -> `AssetService.import_batch`);
- search p95, one client: full text, kind + bbox, near (the B3 queries);
- GET /api/map for the whole world, p95 of first answers (the B9 requests);
- exports: GeoJSON streamed (all of it, or as much as `b7_stream_seconds` allows) and the DCAT
  catalog walked page by page, with the server's RSS sampled while they stream;
- the server's RSS: idle after start, and the peak over everything above.

Each figure's baseline is the same figure at the previous size, so the ratio column is the
growth between sizes; `growth_table` prints the curves side by side.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import time
from typing import Any

import httpx

from bench import httpload
from bench.backfill import load
from bench.catalog import MB, RssSampler, map_requests, ms, search_requests
from bench.results import Figure
from bench.servers import Cluster, Node, rss_bytes

FEATURE = b'{"type":"Feature"'
NEXT_PAGE = re.compile(rb'"hydra:next":\{"@id":"([^"]+)"')


async def stream_geojson(node: Node, seconds: float) -> dict[str, Any]:
    """Read /api/assets.geojson as a client would, for at most `seconds`; count features and
    sample the server's RSS while it streams."""
    assert node.process is not None
    features, size, carry, whole = 0, 0, b"", False
    with RssSampler(node.process.pid) as rss:
        before = rss_bytes(node.process.pid)
        started = time.perf_counter()
        async with (
            httpx.AsyncClient(timeout=600) as client,
            client.stream("GET", f"{node.local_url}/api/assets.geojson") as response,
        ):
            first_byte = time.perf_counter() - started
            async for chunk in response.aiter_raw():
                data = carry + chunk
                features += data.count(FEATURE)
                carry = data[-(len(FEATURE) - 1) :]
                size += len(chunk)
                if time.perf_counter() - started > seconds:
                    break
            else:
                whole = carry.rstrip().endswith(b"]}")
        elapsed = time.perf_counter() - started
    return {
        "features": features,
        "bytes": size,
        "seconds": elapsed,
        "features_per_second": features / elapsed if elapsed else 0.0,
        "first_byte_ms": first_byte * 1000,
        "complete": whole,
        "rss_before_mb": before / MB,
        "rss_peak_mb": rss.peak / MB,
    }


async def walk_dcat(node: Node, pages: int) -> dict[str, Any]:
    """Follow the DCAT catalog's `hydra:next` links as a harvester does, for `pages` pages."""
    assert node.process is not None
    took: list[float] = []
    url: str | None = "/dcat/catalog.jsonld"
    with RssSampler(node.process.pid) as rss:
        async with httpx.AsyncClient(base_url=node.local_url, timeout=120) as client:
            while url and len(took) < pages:
                started = time.perf_counter()
                response = await client.get(url)
                took.append(time.perf_counter() - started)
                response.raise_for_status()
                found = NEXT_PAGE.search(response.content)
                url = httpx.URL(found[1].decode()).raw_path.decode() if found else None
    return {
        "pages": len(took),
        "p50_ms": ms(took, 0.5),
        "p95_ms": ms(took, 0.95),
        "rss_peak_mb": rss.peak / MB,
    }


async def measure(node: Node, count: int, size: dict[str, Any]) -> dict[str, Any]:
    """Everything B7 reads from a running node holding `count` assets."""
    assert node.process is not None
    rng = random.Random(7)
    host = f"127.0.0.1:{node.port}"
    await asyncio.sleep(1.0)
    idle = rss_bytes(node.process.pid)
    requests = search_requests(host, size["b3_queries"], rng)
    for made in requests.values():  # warm: statements compiled, caches filled
        await httpload.latencies("127.0.0.1", node.port, made[: max(3, len(made) // 10)])
    found: dict[str, Any] = {"rss_idle_mb": idle / MB, "search": {}}
    with RssSampler(node.process.pid) as peak:
        for what, made in requests.items():
            result = await httpload.latencies("127.0.0.1", node.port, made)
            found["search"][what] = {
                "p50_ms": ms(result.latencies, 0.5),
                "p95_ms": ms(result.latencies, 0.95),
                "errors": {str(s): c for s, c in result.statuses.items() if s != 200},
            }
        first = await httpload.latencies("127.0.0.1", node.port, map_requests(host))
        found["map"] = {
            "p50_ms": ms(first.latencies, 0.5),
            "p95_ms": ms(first.latencies, 0.95),
            "errors": {str(s): c for s, c in first.statuses.items() if s != 200},
        }
        found["geojson"] = await stream_geojson(node, size["b7_stream_seconds"])
        found["dcat"] = await walk_dcat(node, size["b7_dcat_pages"])
    found["rss_peak_mb"] = peak.peak / MB
    return found


def _figures(db: str, count: int, step: dict, got: dict, before: dict | None) -> list[Figure]:
    """The figures of one size; each one's baseline is the same figure at the previous size."""
    last = count == step["last_size"]

    def figure(key: str, what: str, value: float, unit: str, target: str, met: bool | None):
        previous = before.get(key) if before else None
        return Figure(
            id="B7",
            db=db,
            what=f"{count:,} assets: {what}",
            value=value,
            unit=unit,
            baseline=previous,
            baseline_what=f"at {step['previous']:,}" if before else "first size",
            target=target if last else "-",
            met=met if last else None,
            details={"key": key, "size": count},
        )

    rate = step["created"] / step["seconds"] if step["seconds"] else 0.0
    made = [
        figure(
            "import",
            f"import of {step['created']:,} more (batch path)",
            rate,
            "assets/s",
            ">= 20,000/s",
            rate >= 20_000,
        )
    ]
    for what, found in got["search"].items():
        made.append(
            figure(
                f"search {what}",
                f"search {what} p95 (p50 {found['p50_ms']:.1f} ms)",
                found["p95_ms"],
                "ms",
                "p95 <= 25 ms",
                found["p95_ms"] <= 25 and not found["errors"],
            )
        )
    made.append(
        figure(
            "map",
            f"/api/map first answers p95 (p50 {got['map']['p50_ms']:.1f} ms)",
            got["map"]["p95_ms"],
            "ms",
            "p95 <= 100 ms",
            got["map"]["p95_ms"] <= 100 and not got["map"]["errors"],
        )
    )
    geo = got["geojson"]
    rise = geo["rss_peak_mb"] - geo["rss_before_mb"]
    made.append(
        figure(
            "geojson",
            f"GeoJSON export, {geo['features']:,} features "
            f"({'all' if geo['complete'] else 'time cap'}), server RSS rise "
            f"{rise:.0f} MB",
            geo["features_per_second"],
            "features/s",
            "constant memory (RSS rise <= 50 MB)",
            rise <= 50,
        )
    )
    dcat = got["dcat"]
    made.append(
        figure(
            "dcat",
            f"DCAT catalog, {dcat['pages']} pages walked, page p95 "
            f"(server RSS peak {dcat['rss_peak_mb']:.0f} MB)",
            dcat["p95_ms"],
            "ms",
            "constant memory",
            dcat["rss_peak_mb"] <= 300,
        )
    )
    made.append(
        figure(
            "rss",
            f"server RSS peak (idle {got['rss_idle_mb']:.0f} MB)",
            got["rss_peak_mb"],
            "MB",
            "<= 300 MB",
            got["rss_peak_mb"] <= 300,
        )
    )
    for f in made:
        f.details.update({"import": step, "measured": got})
    return made


async def run(cluster: Cluster, size: dict[str, Any]) -> list[Figure]:
    sizes = sorted(size["b7_sizes"])
    node = cluster.node("b7", start=False)
    figures: list[Figure] = []
    held, before = 0, None
    for count in sizes:
        loaded = load(node, count - held, start=held)
        step = {**loaded, "previous": held, "last_size": sizes[-1]}
        node.start()
        try:
            got = await measure(node, count, size)
        finally:
            node.stop()
        made = _figures(cluster.db, count, step, got, before)
        figures += made
        before = {f.details["key"]: f.value for f in made}
        held = count
    return figures


def growth_table(figures: list[Figure]) -> str:
    """One line per measure and database: its figure at each size and the ratio between
    successive sizes (the growth curve in numbers)."""
    found = [f for f in figures if f.id == "B7"]
    sizes = sorted({f.details["size"] for f in found})
    curves: dict[tuple[str, str], dict[int, Figure]] = {}
    for f in found:
        curves.setdefault((f.db, f.details["key"]), {})[f.details["size"]] = f
    header = ["db", "measure", *[f"{s:,}" for s in sizes]]
    header += [f"x {b:,}/{a:,}" for a, b in itertools.pairwise(sizes)]
    rows = [header]
    for (db, key), by_size in curves.items():
        unit = next(iter(by_size.values())).unit
        cells = [f"{by_size[s].value:,.1f} {unit}" if s in by_size else "-" for s in sizes]
        ratios = [
            f"{by_size[b].value / by_size[a].value:.2f}"
            if a in by_size and b in by_size and by_size[a].value
            else "-"
            for a, b in itertools.pairwise(sizes)
        ]
        rows.append([db, key, *cells, *ratios])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
