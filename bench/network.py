"""B8: a partner-state network on one machine. N real nodes (SQLite and PostgreSQL mixed when
both are asked for), each with its own assets, every node a partner of every other; then

- a new node joins and backfills everyone's catalog (`partner add` each, then `sync`), beside
  the same-run baseline of fetching those changes-feed pages raw;
- an edit on one node travels to all the others (live pushes), beside the time it takes to
  reach the first of them;
- what one change costs the network: deliveries (signed POSTs) and their bytes, from the
  origin's own delivery table.

docs/scaling.md builds the model for 50, 500 and 5,000 nodes from these figures.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.backfill import REPORT, load, raw_pages
from bench.results import Figure
from bench.servers import Cluster
from federation.tables import deliveries, outbox
from registry.core import db
from tests.nodes import Node


def node_kinds(dbs: list[str], count: int) -> list[str]:
    """Which database each node runs on: alternating when both are in the run."""
    return [dbs[n % len(dbs)] for n in range(count)]


# Convergence is read from the API's total, which stops counting at search.count_limit
# (10,000 by default): the network's catalogs are larger, so these nodes count them all.
EXACT_COUNTS = {"COMMONS_SEARCH_COUNT_LIMIT": "10000000"}


async def total(client: httpx.AsyncClient, node: Node, **params: str) -> int:
    response = await client.get(f"{node.base_url}/api/assets", params={"limit": "1", **params})
    response.raise_for_status()
    answer = response.json()
    if not answer.get("total_exact", True):
        raise RuntimeError(f"{node.name} did not count its catalog exactly: {answer['total']}+")
    return int(answer["total"])


async def wait_for_totals(nodes: list[Node], expected: int, limit: float) -> float:
    """Seconds until every node's catalog (own + mirrored) holds `expected` assets."""
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30) as client:
        while True:
            counts = [await total(client, node) for node in nodes]
            if all(count >= expected for count in counts):
                return time.perf_counter() - started
            if time.perf_counter() - started > limit:
                raise RuntimeError(f"the mesh did not converge: {counts} of {expected}")
            await asyncio.sleep(1.0)


def mesh(nodes: list[Node]) -> None:
    """Every node adds every other as a partner (the CLI, as an operator would)."""
    pairs = [(a, b) for a in nodes for b in nodes if a is not b]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda pair: pair[0].cli("partner", "add", pair[1].base_url), pairs))


async def follows_accepted(origin: Node, follower: Node, limit: float) -> None:
    """Wait until `origin` delivers to `follower` (its Follow sent on start and accepted)."""
    headers = {"Authorization": f"Bearer {origin.admin_token}"}
    deadline = time.perf_counter() + limit
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        while time.perf_counter() < deadline:
            found = await client.get(
                f"{origin.base_url}/api/federation/followers", params={"state": "accepted"}
            )
            if any(item["actor"] == follower.actor for item in found.json()["items"]):
                return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{follower.name} never became a follower of {origin.name}")


async def propagation(origin: Node, others: list[Node], limit: float) -> dict[str, Any]:
    """Rename one of the origin's assets to a unique word and time its arrival everywhere."""
    word = "edit" + secrets.token_hex(6)
    async with httpx.AsyncClient(timeout=30) as client:
        listing = await client.get(
            f"{origin.base_url}/api/assets", params={"origin": "local", "limit": "1"}
        )
        uid = listing.json()["items"][0]["id"]
        started = time.perf_counter()
        edited = await client.patch(
            f"{origin.base_url}/api/assets/{uid}",
            json={"name": f"Fablab {word}"},
            headers={"Authorization": f"Bearer {origin.admin_token}"},
        )
        edited.raise_for_status()
        arrived: dict[str, float] = {}
        while len(arrived) < len(others):
            # Every node is asked at once, so that one slow answer does not delay the others'.
            waiting = [node for node in others if node.name not in arrived]
            found = await asyncio.gather(*(total(client, node, q=word) for node in waiting))
            for node, count in zip(waiting, found, strict=True):
                if count:
                    arrived[node.name] = time.perf_counter() - started
            if time.perf_counter() - started > limit:
                missing = [n.name for n in others if n.name not in arrived]
                raise RuntimeError(f"the edit did not reach {missing}")
            await asyncio.sleep(0.05)
    return {"uid": uid, "arrived": arrived}


async def last_outbox_id(origin: Node) -> int:
    engine = db.create_engine(origin.database_url)
    try:
        async with db.read(engine) as conn:
            return (await conn.execute(select(func.max(outbox.c.id)))).scalar() or 0
    finally:
        await engine.dispose()


async def change_cost(origin: Node, since: int) -> dict[str, float]:
    """Deliveries and body bytes of what the origin published after outbox row `since`: one
    change may be published twice (as the node's activity and as its group's), and both count."""
    engine = db.create_engine(origin.database_url)
    try:
        async with db.read(engine) as conn:
            rows = (
                await conn.execute(
                    select(func.length(outbox.c.body), func.count(deliveries.c.id))
                    .select_from(
                        outbox.outerjoin(deliveries, deliveries.c.outbox_id == outbox.c.id)
                    )
                    .where(outbox.c.id > since)
                    .group_by(outbox.c.id)
                )
            ).all()
    finally:
        await engine.dispose()
    sent = sum(count for _, count in rows)
    sent_bytes = sum(length * count for length, count in rows)
    return {
        "activities": len(rows),
        "deliveries": sent,
        "body_bytes": sent_bytes / sent if sent else 0,
        "bytes": sent_bytes,
    }


async def run(clusters: dict[str, Cluster], size: dict[str, Any]) -> list[Figure]:
    count, per_node = size["b8_nodes"], size["b8_assets"]
    timeout = size["timeout"]
    kinds = node_kinds(list(clusters), count + 1)
    nodes = []
    for n, kind in enumerate(kinds[:count]):
        node = clusters[kind].node(f"b8-n{n:02d}", env=EXACT_COUNTS, start=False)
        load(node, per_node)
        node.start()
        nodes.append(node)
    started = time.perf_counter()
    mesh(nodes)
    await wait_for_totals(nodes, count * per_node, timeout * 4)
    mesh_seconds = time.perf_counter() - started

    # A newcomer joins: partners with all, then one `sync` pulls every catalog.
    newcomer = clusters[kinds[count]].node(f"b8-n{count:02d}", env=EXACT_COUNTS, start=False)
    for node in nodes:
        newcomer.cli("partner", "add", node.base_url)
    raw = [await raw_pages(node.base_url) for node in nodes]
    raw_items = sum(r["items"] for r in raw)
    raw_rate = raw_items / sum(r["seconds"] for r in raw)
    began = time.perf_counter()
    out = newcomer.cli("sync", timeout=timeout * 4)
    join_seconds = time.perf_counter() - began
    reports = list(REPORT.finditer(out))
    created = sum(int(found[2]) for found in reports)
    # The sync's own time, without the CLI's start-up; its reports round to 0.1 s, so a tiny
    # run can sum to 0, and then the wall time is the honest figure.
    sync_seconds = sum(float(found[3]) for found in reports) or join_seconds
    newcomer.start()
    everyone = [*nodes, newcomer]
    await wait_for_totals([newcomer], count * per_node, timeout)
    await follows_accepted(nodes[0], newcomer, timeout)  # so that it gets live pushes too

    before_edit = await last_outbox_id(nodes[0])
    moved = await propagation(nodes[0], everyone[1:], timeout)
    times = sorted(moved["arrived"].values())
    cost = await change_cost(nodes[0], before_edit)
    mixed = "+".join(sorted(set(kinds)))
    common = {"nodes": count, "assets_per_node": per_node, "databases": kinds}
    return [
        Figure(
            id="B8",
            db=mixed,
            what=f"a new node backfills {count} partners × {per_node:,} assets",
            value=created / sync_seconds,
            unit="assets/s",
            baseline=raw_rate,
            baseline_what="raw changes-feed pages of the same partners = assets/s",
            target=f"all {count * per_node:,} mirrored",
            met=created == count * per_node,
            details={
                **common,
                "created": created,
                "sync_seconds": sync_seconds,
                "join_wall_seconds": join_seconds,
                "raw_items": raw_items,
                "mesh_setup_seconds": mesh_seconds,
            },
        ),
        Figure(
            id="B8",
            db=mixed,
            what=f"an edit reaches all {len(everyone) - 1} other nodes",
            value=times[-1],
            unit="s",
            baseline=times[0],
            baseline_what="the same edit reaching the first node",
            target="every node",
            met=len(times) == len(everyone) - 1,
            details={**common, "arrived_seconds": moved["arrived"]},
        ),
        Figure(
            id="B8",
            db=mixed,
            what="deliveries (signed POSTs) per change",
            value=float(cost["deliveries"]),
            unit="POSTs",
            baseline=float(len(everyone) - 1),
            baseline_what="partners that must learn of it",
            target="one per partner inbox",
            met=cost["deliveries"] <= len(everyone) - 1,
            details={**common, **cost},
        ),
    ]
