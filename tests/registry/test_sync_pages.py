"""Fetching a partner's feed pages: a busy partner's 429/503 `Retry-After` is honoured a few
times, then the sync gives up for now (to try again later) instead of hammering it."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from federation.fetcher import SafeFetcher
from registry.fediverse import sync
from tests.federation.httpserver import LocalServer, respond, respond_json

PAGE = {"type": "OrderedCollectionPage", "orderedItems": []}


def busy_then_ready(busy: int, status: int = 429):  # type: ignore[no-untyped-def]
    answered = {"n": 0}

    async def handler(request, writer) -> None:  # type: ignore[no-untyped-def]
        answered["n"] += 1
        if answered["n"] <= busy:
            await respond(writer, status, b"{}", {"Retry-After": "1"})
        else:
            await respond_json(writer, PAGE)

    return handler


@pytest.fixture
async def partner():  # type: ignore[no-untyped-def]
    """A partner's web server on 127.0.0.1, and the real fetcher that a sync uses."""
    server = LocalServer()
    await server.start()
    async with SafeFetcher(allow_http=True, allowed_hosts={f"127.0.0.1:{server.port}"}) as f:
        yield server, SimpleNamespace(fetcher=f)
    await server.stop()


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured(partner, status: int) -> None:  # type: ignore[no-untyped-def]
    server, federation = partner
    server.route("/changes")(busy_then_ready(2, status))
    started = time.monotonic()
    assert await sync._get_parsed(federation, server.url("/changes")) == PAGE
    assert time.monotonic() - started >= 2.0  # waited as asked, twice
    assert len(server.requests) == 3


async def test_a_partner_that_stays_busy_fails_the_sync_for_now(partner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    server, federation = partner
    monkeypatch.setattr(sync, "MAX_WAITS", 2)
    server.route("/changes")(busy_then_ready(10))
    with pytest.raises(sync.SyncError, match="still busy"):
        await sync._get_page(federation, server.url("/changes"))
    assert len(server.requests) == 3
