"""The negative cache in front of the fetcher, against real servers on 127.0.0.1: what it
remembers, for how long, and that concurrent fetches of one URL share one request."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from federation.fetch_errors import ConnectionFailed, HttpStatusError, RecentlyFailed, Timeout
from federation.fetch_failures import QUICK_REST_SECONDS, FailureCache
from federation.fetcher import SafeFetcher
from tests.federation.httpserver import LocalServer, Request, respond, respond_json


class ShiftedClock:
    """Real monotonic time (a fetch's cost is measured for real) that a test can move on."""

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.shift


def fetcher_for(*ports: int, deadline: float = 10.0) -> SafeFetcher:
    return SafeFetcher(
        allow_http=True, allowed_hosts={f"127.0.0.1:{port}" for port in ports}, deadline=deadline
    )


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_refused_connection_rests_the_host_only_briefly() -> None:
    """A node that is restarting refuses connections for a moment: asking it again soon costs
    nothing, and its key must be fetchable as soon as it is back."""
    clock = ShiftedClock()
    cache = FailureCache(host_seconds=30, clock=clock)
    port = unused_port()
    url = f"http://127.0.0.1:{port}/actor"
    async with fetcher_for(port) as fetcher:
        with pytest.raises(ConnectionFailed):
            await cache.fetch(fetcher, url)
        with pytest.raises(RecentlyFailed):
            await cache.fetch(fetcher, f"http://127.0.0.1:{port}/other-key")
        clock.shift += QUICK_REST_SECONDS + 0.1
        with pytest.raises(ConnectionFailed):  # asked again, not answered from the cache
            await cache.fetch(fetcher, url)


async def test_a_quick_5xx_rests_the_host_briefly(server: LocalServer) -> None:
    @server.route("/actor")
    async def unavailable(request: Request, writer) -> None:
        await respond(writer, 503, b"{}")

    clock = ShiftedClock()
    cache = FailureCache(host_seconds=30, clock=clock)
    async with fetcher_for(server.port) as fetcher:
        with pytest.raises(HttpStatusError):
            await cache.fetch(fetcher, server.url("/actor"))
        with pytest.raises(RecentlyFailed):
            await cache.fetch(fetcher, server.url("/actor"))
        assert len(server.requests) == 1
        clock.shift += QUICK_REST_SECONDS + 0.1
        with pytest.raises(HttpStatusError):
            await cache.fetch(fetcher, server.url("/actor"))
    assert len(server.requests) == 2


async def test_a_silent_host_that_cost_a_deadline_rests_for_the_full_time(
    server: LocalServer,
) -> None:
    @server.route("/actor")
    async def silent(request: Request, writer) -> None:
        await asyncio.sleep(30)

    clock = ShiftedClock()
    cache = FailureCache(host_seconds=30, clock=clock)
    async with fetcher_for(server.port, deadline=1.2) as fetcher:
        with pytest.raises(Timeout):
            await cache.fetch(fetcher, server.url("/actor"))
        clock.shift += QUICK_REST_SECONDS + 0.1
        with pytest.raises(RecentlyFailed):  # still resting: another deadline is not spent
            await cache.fetch(fetcher, server.url("/actor"))
        assert len(server.requests) == 1
        clock.shift += 30
        with pytest.raises(Timeout):
            await cache.fetch(fetcher, server.url("/actor"))
    assert len(server.requests) == 2


async def test_a_missing_document_is_remembered_per_url_not_per_host(server: LocalServer) -> None:
    @server.route("/actor")
    async def actor(request: Request, writer) -> None:
        await respond_json(writer, {"id": server.url("/actor"), "type": "Application"})

    cache = FailureCache(url_seconds=600, clock=ShiftedClock())
    async with fetcher_for(server.port) as fetcher:
        with pytest.raises(HttpStatusError):  # the test server answers 404 off its routes
            await cache.fetch(fetcher, server.url("/gone"))
        with pytest.raises(RecentlyFailed):
            await cache.fetch(fetcher, server.url("/gone"))
        found = await cache.fetch(fetcher, server.url("/actor"))
    assert found.data["type"] == "Application"
    assert [request.path for request in server.requests] == ["/gone", "/actor"]


async def test_concurrent_fetches_of_one_url_share_one_request(server: LocalServer) -> None:
    @server.route("/actor")
    async def slow_actor(request: Request, writer) -> None:
        await asyncio.sleep(0.3)
        await respond_json(writer, {"id": server.url("/actor"), "type": "Application"})

    cache = FailureCache()
    async with fetcher_for(server.port) as fetcher:
        results = await asyncio.gather(
            *(cache.fetch(fetcher, server.url("/actor")) for _ in range(5))
        )
    assert {result.data["type"] for result in results} == {"Application"}
    assert len(server.requests) == 1
