"""The hot path for cached JSON-LD documents (registry/http/middleware/hot_documents.py): it
answers exactly as the full stack does, leaves everything else to the stack, counts a request
against the rate limit once, and is off where the stack must look at every request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from registry.http.middleware.hot_documents import ROUTE_LABEL, HotDocumentsMiddleware
from tests.registry.test_assets_api import create

BASE = "http://registry.test"
ACCEPTS = [
    "application/activity+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "application/ld+json",
    "application/json, */*;q=0.1",
]
COMPARED = ("content-type", "content-length", "vary")


def client_of(app: Any, address: str = "203.0.113.9") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 4000))
    return httpx.AsyncClient(transport=transport, base_url=BASE)


class RecordingApp:
    """Stands for the rest of the stack: records what reaches it."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.paths.append(scope["path"] + "?" + scope.get("query_string", b"").decode())
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"stack"})


def hot_path_of(app: Any, rest: RecordingApp) -> HotDocumentsMiddleware:
    state = app.state
    return HotDocumentsMiddleware(
        rest, runtime=state.runtime, limits=state.limits, metrics=state.metrics, access_log=False
    )


async def test_a_cached_document_is_answered_as_the_stack_answers_it(
    make_app: Callable[..., Any], group_token: str
) -> None:
    app = make_app()
    async with client_of(app) as http:
        asset = await create(http, group_token)
        path = f"/assets/{asset['id']}"
        cache = app.state.runtime.documents
        for accept in ACCEPTS:
            cache.clear()
            by_stack = await http.get(path, headers={"Accept": accept})
            assert by_stack.status_code == 200 and cache.get(asset["id"]) is not None
            by_hot_path = await http.get(path, headers={"Accept": accept})
            assert by_hot_path.status_code == 200, accept
            assert by_hot_path.content == by_stack.content
            for name in COMPARED:
                assert by_hot_path.headers[name] == by_stack.headers[name], (accept, name)
            ids = {by_stack.headers["x-request-id"], by_hot_path.headers["x-request-id"]}
            assert len(ids) == 2
        head = await http.head(path, headers={"Accept": ACCEPTS[0]})
        assert head.status_code == 200 and head.content == b""
        given = await http.get(path, headers={"Accept": ACCEPTS[0], "X-Request-ID": "proxy-id-123"})
        assert given.headers["x-request-id"] == "proxy-id-123"

        # The stack never saw the hot requests; pages, queries, misses and the rest go there.
        rest = RecordingApp()
        hot = hot_path_of(app, rest)
        async with client_of(hot) as direct:
            assert (await direct.get(path, headers={"Accept": ACCEPTS[0]})).status_code == 200
            for target, accept in (
                (path, "text/html"),
                (path, "image/png"),
                (f"{path}?x=1", ACCEPTS[0]),
                (f"{path}.jsonld", ACCEPTS[0]),
                ("/assets/not-cached", ACCEPTS[0]),
                (f"{path}/more", ACCEPTS[0]),
            ):
                answer = await direct.get(target, headers={"Accept": accept})
                assert answer.status_code == 299, (target, accept)
        assert len(rest.paths) == 6

        counted = app.state.metrics.registry.get_sample_value(
            "commons_http_request_duration_seconds_count", {"route": ROUTE_LABEL, "method": "GET"}
        )
        assert counted >= 2 * len(ACCEPTS) + 1  # the hot path's answers are counted too


async def test_a_change_shows_at_once_and_a_deleted_asset_is_gone(
    make_app: Callable[..., Any], group_token: str
) -> None:
    app = make_app()
    async with client_of(app) as http:
        asset = await create(http, group_token)
        path = f"/assets/{asset['id']}"
        for _ in range(2):
            assert (await http.get(path, headers={"Accept": ACCEPTS[0]})).status_code == 200
        auth = {"Authorization": f"Bearer {group_token}"}
        changed = await http.patch(
            f"/api/assets/{asset['id']}", json={"summary": "Hot"}, headers=auth
        )
        assert changed.status_code == 200
        assert (await http.get(path, headers={"Accept": ACCEPTS[0]})).json()["abstract"] == "Hot"
        assert (await http.delete(f"/api/assets/{asset['id']}", headers=auth)).status_code == 204
        assert (await http.get(path, headers={"Accept": ACCEPTS[0]})).status_code == 410


async def test_each_request_counts_once_against_the_limit(
    make_app: Callable[..., Any], group_token: str
) -> None:
    """Three GETs a minute are allowed: the three are answered (two by the hot path), the
    fourth gets the limiter's 429 from the stack, counted once."""
    tight = {
        "get_per_minute": 1,
        "get_burst": 3,
        "api_writes_per_minute": 60,
        "api_writes_burst": 10,
    }
    app = make_app(limits=tight)
    async with client_of(app, "198.51.100.1") as writer:
        asset = await create(writer, group_token)
    path = f"/assets/{asset['id']}"
    async with client_of(app) as http:
        answers = [(await http.get(path, headers={"Accept": ACCEPTS[0]})) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[3].headers["content-type"].startswith("application/problem+json")
    assert answers[3].headers["retry-after"]


async def test_a_node_that_requires_signed_fetches_has_no_hot_path(
    make_app: Callable[..., Any], group_token: str
) -> None:
    app = make_app(federation={"authorized_fetch": True})
    runtime = app.state.runtime
    await runtime.start_federation(run_workers=False)
    try:
        async with client_of(app) as http:
            asset = await create(http, group_token)
            runtime.documents.put(asset["id"], b"{}", runtime.documents.token())
            unsigned = await http.get(f"/assets/{asset['id']}", headers={"Accept": ACCEPTS[0]})
    finally:
        await runtime.stop_federation()
    assert unsigned.status_code == 401, unsigned.text
