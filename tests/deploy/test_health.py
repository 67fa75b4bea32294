"""/healthz and /readyz on real server processes: the database going away and coming back,
workers missing and then running."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.conftest import PG_URL
from tests.deploy.tcpgate import TcpGate
from tests.nodes import Node, eventually


async def ready(node: Node) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"{node.local_url}/readyz")
    return response.status_code, response.json()


async def healthy(node: Node) -> bool:
    async with httpx.AsyncClient(timeout=10) as http:
        return (await http.get(f"{node.local_url}/healthz")).status_code == 200


@pytest.mark.skipif(not PG_URL, reason="set TEST_DATABASE_URL to run on PostgreSQL")
async def test_readyz_follows_postgresql_going_away_and_back(node_factory: Any) -> None:
    node: Node = node_factory("R", on="postgresql", start=False)
    parts = urlsplit(node.database_url)
    gate = TcpGate(parts.hostname or "127.0.0.1", parts.port or 5432)
    try:
        netloc = f"{parts.username}@127.0.0.1:{gate.port}" if parts.username else ""
        node.database_url = urlunsplit(parts._replace(netloc=netloc or f"127.0.0.1:{gate.port}"))
        node.start()
        status, body = await ready(node)
        assert status == 200, body
        assert body["checks"] == {"database": "ok", "migrations": "ok", "workers": "ok"}

        gate.cut()
        status, body = await ready(node)
        assert status == 503, body
        assert body["type"].endswith("/not-ready")
        assert body["checks"]["database"].startswith("unreachable"), body
        assert await healthy(node)  # the process itself is fine

        gate.restore()

        async def ready_again() -> bool:
            return (await ready(node))[0] == 200

        await eventually(ready_again, timeout=30, what="/readyz ready after PostgreSQL returned")
    finally:
        node.stop()
        gate.close()


async def test_readyz_wants_a_live_worker(node_factory: Any) -> None:
    """With the workers out of the server, ready means a `worker` process reported alive."""
    env = {"COMMONS_FEDERATION_WORKERS_IN_SERVER": "false"}
    node: Node = node_factory("W", env=env)
    status, body = await ready(node)
    assert status == 503 and "no worker" in body["checks"]["workers"], body
    worker = node.spawn("worker")
    try:

        async def worker_ready() -> bool:
            return (await ready(node))[0] == 200

        await eventually(worker_ready, timeout=30, what="ready once a worker runs")
    finally:
        worker.terminate()
        worker.wait(15)
