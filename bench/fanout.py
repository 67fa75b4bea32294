"""B4: one new asset delivered to many followers on many hosts (loopback sinks that verify
nothing and count). Baseline: the same node delivering one asset to one follower.

Followers here have no shared inbox (the worst case: one signed POST per follower); a server
that advertises a shared inbox gets one delivery for all its followers."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import insert

from bench import probe
from bench.dataset import asset_fields
from bench.results import Figure
from bench.servers import Cluster
from bench.sink import Sink
from federation.tables import followers
from registry.core import db


async def add_followers(engine, ports: list[int], start: int, stop: int) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    rows = []
    for i in range(start, stop):
        port = ports[i % len(ports)]
        actor = f"http://127.0.0.1:{port}/users/u{i}"
        rows.append(
            {
                "actor": actor,
                "host": f"127.0.0.1:{port}",
                "inbox": f"{actor}/inbox",
                "shared_inbox": None,
                "follow_id": f"{actor}/follows/1",
                "state": "accepted",
                "created_at": now,
                "decided_at": now,
            }
        )
    async with db.write(engine) as conn:
        await conn.execute(insert(followers), rows)


async def deliver_one(client: httpx.AsyncClient, sink: Sink, n: int, expect: int, limit: float):  # type: ignore[no-untyped-def]
    """Create an asset; seconds until `expect` deliveries have reached the sinks."""
    before = sink.total
    started = time.perf_counter()
    response = await client.post("/api/assets", json=asset_fields(n))
    response.raise_for_status()
    deadline = started + limit
    while sink.total - before < expect and time.perf_counter() < deadline:
        await _tick()
    return time.perf_counter() - started, sink.total - before


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.002)


async def run(cluster: Cluster, size: dict) -> Figure:
    count, hosts = size["b4_followers"], size["b4_hosts"]
    node = cluster.node("b4")
    token = node.cli("group", "create", "Bench group").split()[-1]
    sink = Sink()
    ports = [await sink.listen() for _ in range(hosts)]
    engine = probe.engine_for(node.database_url)
    try:
        async with node.client(token) as client:
            await add_followers(engine, ports, 0, 1)
            await deliver_one(client, sink, 0, 1, 30)  # warm-up: keys loaded, connections made
            one, _ = await deliver_one(client, sink, 1, 1, 30)
            await add_followers(engine, ports, 1, count)
            many, delivered = await deliver_one(client, sink, 2, count, size["timeout"])
    finally:
        await engine.dispose()
        await sink.close()
    return Figure(
        id="B4",
        db=cluster.db,
        what=f"fan-out of one asset to {count:,} followers on {hosts} hosts",
        value=many,
        unit="s",
        baseline=one,
        baseline_what="one delivery, s",
        target="all delivered <= 5 s",
        met=many <= 5 and delivered >= count,
        details={"delivered": delivered, "followers": count, "hosts": hosts},
    )
