"""/metrics scraped from a real node: off by default, token-protected when on, and the inbox
queue depth rising during a burst of incoming activities and falling when a worker drains it."""

from __future__ import annotations

import subprocess
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.nodes import Node, eventually

TOKEN = "scrape-secret-0123456789"


async def scrape(node: Node) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(
            f"{node.local_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
    assert response.status_code == 200, response.text
    samples = {}
    for family in text_string_to_metric_families(response.text):  # the reference parser
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_are_off_by_default_and_need_the_token(node_factory: Any) -> None:
    plain: Node = node_factory("P")
    guarded: Node = node_factory(
        "G",
        env={"COMMONS_MONITORING_METRICS": "true", "COMMONS_MONITORING_METRICS_TOKEN": TOKEN},
    )
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.get(f"{plain.local_url}/metrics")).status_code == 404
        refused = await http.get(f"{guarded.local_url}/metrics")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        wrong = {"Authorization": "Bearer nope"}
        assert (await http.get(f"{guarded.local_url}/metrics", headers=wrong)).status_code == 401
        await http.get(f"{guarded.local_url}/api/assets")
    samples = await scrape(guarded)
    assert value(samples, "commons_http_request_duration_seconds_count", route="/api/assets",
                 method="GET") >= 1  # fmt: skip
    assert value(samples, "commons_inbox_queue_depth", state="pending") == 0


async def test_inbox_queue_depth_moves_during_a_burst(node_factory: Any) -> None:
    origin: Node = node_factory("O")
    env = {
        "COMMONS_FEDERATION_WORKERS_IN_SERVER": "false",
        "COMMONS_MONITORING_METRICS": "true",
        "COMMONS_MONITORING_METRICS_TOKEN": TOKEN,
    }
    mirror: Node = node_factory("M", env=env)
    worker = mirror.spawn("worker")
    try:
        mirror.cli("partner", "add", origin.base_url)
        await eventually(lambda: _accepted(mirror), timeout=60, what="the mirror's follow accepted")
    finally:
        _stop(worker)
    # The mirror's workers are down: the burst of pushes piles up in its inbox.
    token = origin.cli("group", "create", "Burst").split()[-1]
    async with origin.client(token) as http:
        for i in range(40):
            body = {"name": f"Burst {i}", "kind": "fablab"}
            assert (await http.post("/api/assets", json=body)).status_code == 201
    origin_host = f"127.0.0.1:{origin.port}"

    async def piled_up() -> float:
        depth = value(await scrape(mirror), "commons_inbox_queue_depth", state="pending")
        return depth if depth >= 40 else 0

    await eventually(piled_up, timeout=60, what="40 pending activities in the mirror's inbox")
    samples = await scrape(mirror)
    assert value(samples, "commons_inbox_oldest_age_seconds", state="pending") > 0
    assert value(samples, "commons_sync_lag_seconds", partner=origin_host) != 0

    worker = mirror.spawn("worker")
    try:

        async def drained() -> bool:
            samples = await scrape(mirror)
            return (
                value(samples, "commons_inbox_queue_depth", state="pending") == 0
                and value(samples, "commons_assets", origin=origin_host) == 40
            )

        await eventually(drained, timeout=90, what="the worker drained the inbox")
    finally:
        _stop(worker)


async def _accepted(node: Node) -> bool:
    return "accepted" in node.cli("following")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(15)
