"""B1: signed Create(asset) activities from two remote hosts, verified, persisted and applied
per second. Baseline: the same server's trivial endpoint (`/.well-known/nodeinfo`)."""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import orjson
from sqlalchemy import insert

import vocab
from bench import httpload, probe
from bench.dataset import generate
from bench.results import Figure
from bench.servers import BENCH_ENV, Cluster
from federation.httpsig.cavage import sign_request
from federation.tables import following
from registry.core import db
from tests.remote_actor import RemoteActor, serving

# Worker processes per database, as measured best on two cores (docs/performance.md): SQLite
# has one writer, so a second worker gains nothing; PostgreSQL applies in both.
WORKERS = {"sqlite": 1, "postgresql": 2}
DONE = "SELECT count(*) FROM inbox_items WHERE state <> 'pending'"
APPLIED = "SELECT count(*) FROM inbox_items WHERE state = 'done'"


def create_activity(remote: RemoteActor, n: int, fields: dict) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    iri = f"{remote.base}/assets/{remote.name}-{n}"
    meta = vocab.AssetMeta(iri=iri, url=iri, attributed_to=remote.actor, published=now, updated=now)
    document = vocab.asset_document(
        vocab.validate_asset_input(fields), meta, tag_base=f"{remote.base}/tags"
    )
    return remote.activity("Create", document, suffix=f"{n}")


def signed_post(remote: RemoteActor, inbox_url: str, host: str, activity: dict) -> bytes:
    body = orjson.dumps(activity)
    headers = sign_request(
        "POST",
        inbox_url,
        {"Content-Type": "application/activity+json", "Host": host},
        body,
        remote.key_id,
        remote.key,
    )
    return httpload.request_bytes("POST", "/inbox", host, headers, body)


async def run(cluster: Cluster, size: dict) -> Figure:
    count = size["b1_activities"]
    connections = size["connections"]
    # The node runs as docs/deployment.md deploys it: one web process receiving, and
    # `commons-registry worker` processes applying (`federation.workers_in_server = false`).
    # `--node-env COMMONS_FEDERATION_WORKERS_IN_SERVER=true` measures a node without them.
    in_server = BENCH_ENV.get("COMMONS_FEDERATION_WORKERS_IN_SERVER", "false") == "true"
    node = cluster.node("b1", env={"COMMONS_FEDERATION_WORKERS_IN_SERVER": str(in_server).lower()})
    workers = 0 if in_server else WORKERS[cluster.db]
    for n in range(workers):
        with (node.workdir / f"worker-{n}.log").open("ab") as log:  # the child keeps its own
            cluster.processes.append(node.spawn("worker", stdout=log, start_new_session=True))
    host = f"127.0.0.1:{node.port}"
    inbox_url = f"{node.base_url}/inbox"
    engine = probe.engine_for(node.database_url)
    async with AsyncExitStack() as stack:
        remotes = [
            await stack.enter_async_context(serving(RemoteActor(name=name)))
            for name in ("remote-a", "remote-b")
        ]
        now = datetime.now(UTC)
        async with db.write(engine) as conn:  # the node follows both: they are its partners
            for remote in remotes:
                await conn.execute(
                    insert(following).values(
                        actor=remote.actor,
                        host=f"127.0.0.1:{remote.port}",
                        follow_id=f"{node.base_url}/activities/follow-{remote.name}",
                        state="accepted",
                        created_at=now,
                        decided_at=now,
                    )
                )
        # Pre-sign every request, so that the generator only writes bytes.
        fields = list(generate(count + len(remotes)))
        signing_started = time.perf_counter()
        warmup = [
            signed_post(r, inbox_url, host, create_activity(r, 10**9 + i, fields[count + i]))
            for i, r in enumerate(remotes)
        ]
        requests = [
            signed_post(remotes[i % 2], inbox_url, host, create_activity(remotes[i % 2], i, f))
            for i, f in enumerate(fields[:count])
        ]
        signing = time.perf_counter() - signing_started
        # First contact: each remote's key is fetched once and cached by the node.
        await httpload.run("127.0.0.1", node.port, warmup, connections=1)
        _, warmed = await probe.wait_until(engine, DONE, len(warmup), limit=60)
        trivial = httpload.request_bytes(
            "GET", "/.well-known/nodeinfo", host, {"Accept": "application/json"}
        )
        baseline = await httpload.run(
            "127.0.0.1", node.port, [trivial], connections=connections, duration=size["seconds"]
        )
        started = time.perf_counter()
        sent = await httpload.run(
            "127.0.0.1", node.port, requests, connections=connections, retry_busy=True
        )
        finished, _ = await probe.wait_until(
            engine, DONE, count + len(warmup), limit=size["timeout"]
        )
        applied = int(await probe.scalar(engine, APPLIED)) - len(warmup)
        assets = int(await probe.scalar(engine, "SELECT count(*) FROM assets"))
    await engine.dispose()
    seconds = finished - started
    rate = applied / seconds if seconds else 0.0
    return Figure(
        id="B1",
        db=cluster.db,
        what="inbox Create(asset) verified+persisted+applied",
        value=rate,
        unit="activities/s",
        baseline=baseline.per_second,
        baseline_what="GET /.well-known/nodeinfo req/s",
        target=">= 1,000/s",
        met=rate >= 1000 and applied == count,
        details={
            "activities": count,
            "applied": applied,
            "assets_in_catalog": assets,
            "answered_202_per_second": sent.per_second,
            "statuses": sent.status_counts(),
            "retried_after_429": sent.retried,
            "seconds_to_answer_all": sent.seconds,
            "seconds_to_apply_all": seconds,
            "connections": connections,
            "web_processes": int(BENCH_ENV.get("COMMONS_SERVER_WORKERS", "1")),
            "worker_processes": workers,
            "presigning_seconds": signing,
            "warmup_processed": warmed,
            "baseline_statuses": baseline.status_counts(),
        },
    )
