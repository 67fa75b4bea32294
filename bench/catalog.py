"""B3, B5 and B6 on one node holding a large catalog (100,000 assets at full size).

B3: search latency (full text, kind + bbox, near), p50/p95, one client; baseline: the
database's bare indexed lookup (an asset row by its unique uid) from this process.
B5: GET an asset as JSON-LD, requests/s; baseline: a bare Starlette endpoint serving the same
document under the same uvicorn settings.
B6: the server's RSS under B3 load (and concurrent search load), against the same server idle.
B9: GET /api/map for the whole world (the search page's map data), p95 of first answers (no
cache entry: every request a new zoom or kind), beside the same requests answered again.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench import httpload, probe
from bench.backfill import load
from bench.dataset import places, search_terms
from bench.results import Figure
from bench.servers import Cluster, Node, free_port, rss_bytes
from registry.core.stored_documents import from_stored

KINDS = ["fablab", "community-garden", "tool-library", "cooperative", "open-hardware"]
MB = 1024 * 1024


def search_requests(host: str, n: int, rng: random.Random) -> dict[str, list[bytes]]:
    terms, spots = search_terms(), places()
    made: dict[str, list[bytes]] = {"full text": [], "kind + bbox": [], "near": []}
    for _ in range(n):
        spot = rng.choice(spots)["location"]
        lat, lon = spot["latitude"], spot["longitude"]
        queries = {
            "full text": {"q": rng.choice(terms)},
            "kind + bbox": {
                "kind": rng.choice(KINDS),
                "bbox": f"{lon - 1:.4f},{lat - 0.5:.4f},{lon + 1:.4f},{lat + 0.5:.4f}",
            },
            "near": {"near": f"{lat:.5f},{lon:.5f},10"},
        }
        for what, params in queries.items():
            made[what].append(
                httpload.request_bytes(
                    "GET", f"/api/assets?{urlencode(params)}", host, {"Accept": "application/json"}
                )
            )
    return made


class RssSampler:
    """Peak RSS of a process while running, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._task = pid, 0, None

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, rss_bytes(self.pid))
            await asyncio.sleep(0.05)

    def __enter__(self) -> RssSampler:
        self._task = asyncio.ensure_future(self._sample())
        return self

    def __exit__(self, *exc: object) -> None:
        self.peak = max(self.peak, rss_bytes(self.pid))
        if self._task is not None:
            self._task.cancel()


def ms(values: list[float], fraction: float) -> float:
    return httpload.percentile(values, fraction) * 1000


def map_requests(host: str) -> list[bytes]:
    """Whole-world map requests, each a different cache entry: zooms 0-7, any kind or one."""
    made = []
    for zoom in range(8):
        for kind in ["", *KINDS]:
            params = {"zoom": zoom, **({"kind": kind} if kind else {})}
            made.append(
                httpload.request_bytes(
                    "GET", f"/api/map?{urlencode(params)}", host, {"Accept": "application/json"}
                )
            )
    return made


async def map_figure(db: str, host: str, port: int, count: int, base_p95: float) -> Figure:
    made = map_requests(host)
    first = await httpload.latencies("127.0.0.1", port, made)
    again = await httpload.latencies("127.0.0.1", port, made)
    bad = {str(s): c for s, c in first.statuses.items() if s != 200}
    p95 = ms(first.latencies, 0.95)
    return Figure(
        id="B9",
        db=db,
        what=f"map data for the whole world at {count:,} assets, first answers "
        f"(p50 {ms(first.latencies, 0.5):.1f} ms)",
        value=p95,
        unit="ms",
        baseline=base_p95,
        baseline_what="bare indexed lookup p95",
        target="p95 < 100 ms",
        met=p95 < 100 and not bad,
        details={
            "first_p50_ms": ms(first.latencies, 0.5),
            "first_p95_ms": p95,
            "first_max_ms": max(first.latencies) * 1000,
            "cached_p50_ms": ms(again.latencies, 0.5),
            "cached_p95_ms": ms(again.latencies, 0.95),
            "requests": first.sent,
            "errors": bad,
        },
    )


async def run(cluster: Cluster, size: dict) -> list[Figure]:
    count = size["b3_assets"]
    rng = random.Random(3)
    node = cluster.node("b3", start=False)
    loaded = load(node, count)
    node.start()
    host = f"127.0.0.1:{node.port}"
    engine = probe.engine_for(node.database_url)
    await asyncio.sleep(1.0)
    assert node.process is not None
    idle_rss = rss_bytes(node.process.pid)

    # Baseline of B3: the bare indexed lookup, straight through the database driver.
    uids = [r[0] for r in await probe.rows(engine, "SELECT uid FROM assets")]
    sample = rng.sample(uids, min(len(uids), size["b3_queries"]))
    lookups = []
    for uid in sample:
        started = time.perf_counter()
        await probe.rows(engine, "SELECT id, name, kind FROM assets WHERE uid = :uid", uid=uid)
        lookups.append(time.perf_counter() - started)

    requests = search_requests(host, size["b3_queries"], rng)
    # Warm the server (first queries compile statements and fill caches), then measure.
    for made in requests.values():
        await httpload.latencies("127.0.0.1", node.port, made[: max(3, len(made) // 10)])
    figures: list[Figure] = []
    latencies: dict[str, dict[str, float]] = {}
    with RssSampler(node.process.pid) as single:
        for what, made in requests.items():
            result = await httpload.latencies("127.0.0.1", node.port, made)
            bad = {str(s): c for s, c in result.statuses.items() if s != 200}
            latencies[what] = {
                "p50_ms": ms(result.latencies, 0.5),
                "p95_ms": ms(result.latencies, 0.95),
                "queries": result.sent,
                "errors": bad,
            }
    figures.append(await map_figure(cluster.db, host, node.port, count, ms(lookups, 0.95)))
    mixed = [r for made in requests.values() for r in made]
    rng.shuffle(mixed)
    with RssSampler(node.process.pid) as loaded_rss:
        concurrent = await httpload.run(
            "127.0.0.1", node.port, mixed, connections=8, duration=size["seconds"]
        )
    base_p50, base_p95 = ms(lookups, 0.5), ms(lookups, 0.95)
    for what, figures_of in latencies.items():
        p95 = figures_of["p95_ms"]
        figures.append(
            Figure(
                id="B3",
                db=cluster.db,
                what=f"search p95 at {count:,} assets: {what} (p50 {figures_of['p50_ms']:.1f} ms)",
                value=p95,
                unit="ms",
                baseline=base_p95,
                baseline_what=f"bare indexed lookup p95; p50 {base_p50:.2f} ms",
                target="p95 <= 20 ms",
                met=p95 <= 20 and not figures_of["errors"],
                details={**figures_of, "import": loaded},
            )
        )

    # B5: the asset's JSON-LD document, and the same bytes from a bare Starlette endpoint.
    local = rng.sample(uids, min(len(uids), 500))
    accept = {"Accept": "application/activity+json"}
    gets = [httpload.request_bytes("GET", f"/assets/{uid}", host, accept) for uid in local]
    document = from_stored(
        await probe.scalar(
            engine,
            "SELECT d.document FROM asset_documents d JOIN assets a ON a.id = d.asset_id "
            "WHERE a.uid = :uid",
            uid=local[0],
        )
    )
    await engine.dispose()
    ours = await httpload.run(
        "127.0.0.1", node.port, gets, connections=size["connections"], duration=size["seconds"]
    )
    node.stop()  # the same catalog again, served without the document cache (the "before")
    uncached_node = Node(
        name="b3-uncached",
        workdir=node.workdir,
        database_url=node.database_url,
        extra_env={**node.extra_env, "COMMONS_SERVER_DOCUMENT_CACHE_SECONDS": "0"},
    )
    uncached_node.start()
    cluster.nodes.append(uncached_node)
    uncached_host = f"127.0.0.1:{uncached_node.port}"
    uncached = await httpload.run(
        "127.0.0.1",
        uncached_node.port,
        [httpload.request_bytes("GET", f"/assets/{uid}", uncached_host, accept) for uid in local],
        connections=size["connections"],
        duration=size["seconds"],
    )
    uncached_node.stop()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "document.json"
        path.write_text(document)
        port = free_port()
        cluster.spawn(
            "-m", "bench.bare_app", str(port), str(path), ready_url=f"http://127.0.0.1:{port}/ready"
        )
        bare_gets = [
            httpload.request_bytes("GET", f"/assets/{uid}", f"127.0.0.1:{port}", accept)
            for uid in local
        ]
        bare = await httpload.run(
            "127.0.0.1", port, bare_gets, connections=size["connections"], duration=size["seconds"]
        )
    ratio = ours.per_second / bare.per_second if bare.per_second else 0.0
    figures.append(
        Figure(
            id="B5",
            db=cluster.db,
            what="GET /assets/{id} as JSON-LD",
            value=ours.per_second,
            unit="req/s",
            baseline=bare.per_second,
            baseline_what="bare Starlette endpoint req/s",
            target="ratio >= 0.5",
            met=ratio >= 0.5 and set(ours.statuses) == {200},
            details={
                "statuses": ours.status_counts(),
                "uncached_per_second": uncached.per_second,
                "uncached_ratio": uncached.per_second / bare.per_second if bare.per_second else 0,
                "uncached_statuses": uncached.status_counts(),
                "document_cache_seconds": 5.0,
                "document_bytes": len(document),
                "connections": size["connections"],
            },
        )
    )
    peak = max(single.peak, loaded_rss.peak)
    figures.append(
        Figure(
            id="B6",
            db=cluster.db,
            what=f"server RSS at {count:,} assets under B3 load",
            value=peak / MB,
            unit="MB",
            baseline=idle_rss / MB,
            baseline_what="the same server idle, MB",
            target="<= 200 MB",
            met=peak <= 200 * MB,
            details={
                "rss_single_client_mb": single.peak / MB,
                "rss_8_clients_mb": loaded_rss.peak / MB,
                "concurrent_searches_per_second": concurrent.per_second,
                "concurrent_statuses": concurrent.status_counts(),
            },
        )
    )
    return figures
