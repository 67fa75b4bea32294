"""Rate limits: 429 with Retry-After and a problem document, per remote host on the inboxes
(partners allowed far more), per client address on anonymous GETs, per bearer token on API
writes. A forged key id cannot spend someone else's allowance."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from registry.config import LimitsSection
from registry.http.middleware.ratelimit import Allowance, RateLimiter
from registry.runtime import Runtime
from tests.registry.test_assets_api import GARDEN
from tests.remote_actor import RemoteActor, serving

BASE = "http://registry.test"
FEDERATION_DEV = {"allow_private_addresses": True, "allow_http": True}
TIGHT = {
    "inbox_per_minute": 1,
    "inbox_burst": 2,
    "partner_per_minute": 1,
    "partner_burst": 6,
    "unverified_per_minute": 1,
    "unverified_burst": 3,
    "get_per_minute": 1,
    "get_burst": 3,
    "api_writes_per_minute": 1,
    "api_writes_burst": 2,
}


@pytest.fixture
async def remote() -> AsyncIterator[RemoteActor]:
    async with serving(RemoteActor()) as actor:
        yield actor


@pytest.fixture
async def start_node(make_app: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    """A node with tight limits and its federation started (no workers)."""
    started: list[Runtime] = []

    async def start(**overrides: Any) -> Any:
        overrides.setdefault("limits", TIGHT)
        app = make_app(federation=FEDERATION_DEV, **overrides)
        runtime: Runtime = app.state.runtime
        await runtime.start_federation(run_workers=False)
        started.append(runtime)
        return app

    yield start
    for runtime in started:
        await runtime.stop_federation()


def client(app: Any, address: str = "203.0.113.7") -> httpx.AsyncClient:
    """A client of `app` that connects from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 4000))
    return httpx.AsyncClient(transport=transport, base_url=BASE)


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    problem = response.json()
    assert problem["type"].endswith("/rate-limited") and problem["status"] == 429
    assert problem["retry_after"] == retry_after


async def post_signed(http: httpx.AsyncClient, remote: RemoteActor, n: int, path: str = "/inbox"):
    activity = remote.activity("Like", f"{BASE}/assets/x", suffix=str(n))
    return await http.post(
        path,
        json=activity,
        auth=remote.auth(),
        headers={"Content-Type": "application/activity+json"},
    )


async def test_api_writes_are_limited_per_token(
    start_node: Callable[..., Any],
    group_token: str,
    other_group_token: str,
    auth: Callable[[str], dict[str, str]],
) -> None:
    async with client(await start_node()) as http:
        for n in range(2):
            created = await http.post(
                "/api/assets", json={**GARDEN, "name": f"G{n}"}, headers=auth(group_token)
            )
            assert created.status_code == 201, created.text
        refused = await http.post(
            "/api/assets", json={**GARDEN, "name": "G2"}, headers=auth(group_token)
        )
        assert_rate_limited(refused)
        # Another token has its own bucket; reads with the limited token still work.
        other = await http.post(
            "/api/assets", json={**GARDEN, "name": "O"}, headers=auth(other_group_token)
        )
        assert other.status_code == 201
        listed = await http.get("/api/assets", headers=auth(group_token))
        assert listed.status_code == 200 and len(listed.json()["items"]) == 3


async def test_anonymous_gets_are_limited_per_client_address(
    start_node: Callable[..., Any], group_token: str
) -> None:
    app = await start_node()
    async with client(app) as http, client(app, "198.51.100.9") as elsewhere:
        for _ in range(3):
            assert (await http.get("/api/assets")).status_code == 200
        assert_rate_limited(await http.get("/api/assets"))
        assert_rate_limited(await http.get("/", headers={"Accept": "application/json"}))
        # A bearer token is not counted as an anonymous client.
        headers = {"Authorization": f"Bearer {group_token}"}
        assert (await http.get("/api/assets", headers=headers)).status_code == 200
        # Another address has a bucket of its own.
        assert (await elsewhere.get("/api/assets")).status_code == 200


async def test_inbox_is_limited_per_remote_host(
    start_node: Callable[..., Any], remote: RemoteActor
) -> None:
    async with client(await start_node()) as http:
        for n in range(2):
            assert (await post_signed(http, remote, n)).status_code == 202
        refused = await post_signed(http, remote, 2, path="/actor/inbox")
        assert_rate_limited(refused)
        assert "127.0.0.1" in refused.json()["detail"]


async def test_partners_get_a_larger_inbox_allowance(
    start_node: Callable[..., Any], remote: RemoteActor
) -> None:
    async with client(await start_node(mirror={"partners": [remote.base]})) as http:
        for n in range(6):
            assert (await post_signed(http, remote, n)).status_code == 202
        assert_rate_limited(await post_signed(http, remote, 6))


async def test_forged_key_ids_spend_the_senders_allowance_not_the_hosts(
    start_node: Callable[..., Any], remote: RemoteActor
) -> None:
    impostor = RemoteActor(port=remote.port)  # the same host and key id, another key
    app = await start_node()
    async with client(app) as attacker, client(app, "192.0.2.50") as sender:
        for n in range(3):
            assert (await post_signed(attacker, impostor, 100 + n)).status_code == 401
        # The attacker's address is out of unverifiable attempts...
        assert_rate_limited(await post_signed(attacker, impostor, 200))
        # ...and the host whose key id it forged still has its whole allowance.
        for n in range(2):
            assert (await post_signed(sender, remote, n)).status_code == 202
        assert_rate_limited(await post_signed(sender, remote, 2))


async def test_limits_can_be_switched_off(
    start_node: Callable[..., Any], remote: RemoteActor
) -> None:
    async with client(await start_node(limits={**TIGHT, "rate_limits": False})) as http:
        for _ in range(5):
            assert (await http.get("/api/assets")).status_code == 200
        for n in range(4):
            assert (await post_signed(http, remote, n)).status_code == 202


def test_token_bucket_refills_at_its_rate_and_forgets_the_oldest() -> None:
    now = [0.0]
    limiter = RateLimiter(max_keys=2, clock=lambda: now[0])
    allowance = Allowance(per_minute=60, burst=2)  # one token a second
    assert limiter.take("a", allowance) == 0 and limiter.take("a", allowance) == 0
    assert limiter.take("a", allowance) == pytest.approx(1.0)
    now[0] = 0.5
    assert limiter.take("a", allowance) == pytest.approx(0.5)
    now[0] = 1.0
    assert limiter.take("a", allowance) == 0
    now[0] = 100.0  # a long pause refills only up to the burst
    assert [limiter.take("a", allowance) for _ in range(3)][2] > 0
    limiter.take("b", allowance)
    limiter.take("c", allowance)  # "a" is the least recently seen: forgotten
    assert limiter.wait("a", allowance) == 0 and len(limiter._buckets) == 2


def test_defaults_are_generous_to_partners() -> None:
    limits = LimitsSection()
    assert limits.rate_limits
    assert limits.partner_per_minute >= 10 * limits.inbox_per_minute
    assert limits.partner_burst >= 10 * limits.inbox_burst
