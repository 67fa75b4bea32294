"""The delivery worker against real inbox servers on 127.0.0.1: signing, results, retries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.delivery import DeliverySettings, DeliveryWorker, backoff_delay
from federation.fetcher import SafeFetcher
from federation.httpsig import CavageAuth
from federation.outbox import publish
from federation.transactions import write
from tests.federation.db_fixtures import (
    KEY_ID,
    InboxSink,
    Received,
    Workers,
    activity,
    delivery_rows,
    host_row,
    running_sinks,
)


async def send(engine: AsyncEngine, n: int, inboxes: list[str], **kwargs: object) -> int:
    async with write(engine) as conn:
        return await publish(conn, activity(n), inboxes, public=True, **kwargs)  # type: ignore[arg-type]


async def until_due(engine: AsyncEngine) -> None:
    """Sleep until every pending delivery is due."""
    due = max(r.next_attempt_at for r in await delivery_rows(engine) if r.state == "pending")
    due = due if due.tzinfo else due.replace(tzinfo=UTC)
    await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.02)


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    settings = DeliverySettings()
    for attempts, nominal in [(1, 30), (2, 60), (3, 120), (7, 1920)]:
        delays = [backoff_delay(settings, attempts).total_seconds() for _ in range(200)]
        assert nominal * 0.8 <= min(delays) and max(delays) <= nominal * 1.2
        assert max(delays) - min(delays) > nominal * 0.2  # jittered, not constant
    assert all(backoff_delay(settings, n).total_seconds() <= 3600 for n in (8, 20, 500))
    assert backoff_delay(settings, 1, retry_after=600).total_seconds() == 600
    assert backoff_delay(settings, 1, retry_after=86400).total_seconds() == 3600


async def test_fan_out_signed_once_per_shared_inbox(
    engine: AsyncEngine, rsa_key: rsa.RSAPrivateKey, workers: Workers
) -> None:
    async with running_sinks(3, rsa_key.public_key()) as sinks:
        # 30 followers: ten per host behind its shared inbox, plus one personal inbox each.
        inboxes = [sink.url("/inbox") for sink in sinks for _ in range(10)]
        inboxes += [sink.url("/users/solo/inbox") for sink in sinks]
        await send(engine, 1, inboxes)
        worker = workers(engine)
        assert await worker.run_once() == 6
        assert await worker.run_once() == 0
    stored = orjson.dumps(activity(1))
    for sink in sinks:
        assert sorted(r.path for r in sink.delivered()) == ["/inbox", "/users/solo/inbox"]
        for got in sink.received:
            assert got.verified and got.body == stored  # signed over exactly the stored bytes
            assert "digest" in got.headers["signature"]
    rows = await delivery_rows(engine)
    assert {(r.state, r.attempts, r.last_status, r.locked_by) for r in rows} == {
        ("done", 1, 202, None)
    }
    assert all(r.done_at is not None for r in rows)
    breaker = await host_row(engine, sinks[0].host)
    assert breaker.consecutive_failures == 0 and breaker.last_success_at is not None


async def test_down_peer_gets_growing_backoff_then_the_activity(
    engine: AsyncEngine, rsa_key: rsa.RSAPrivateKey, workers: Workers
) -> None:
    sink = InboxSink(rsa_key.public_key())
    await sink.start()
    await sink.stop()  # connection refused from now on
    await send(engine, 1, [sink.url()])
    # A base long enough that "not due yet" holds on a busy machine: at 0.1 s the first delay
    # (0.08 s with its jitter) ran out before the next round on PostgreSQL now and then.
    base = 0.3
    worker = workers(engine, backoff_base=timedelta(seconds=base), breaker_threshold=100)
    for attempt in range(1, 4):
        before = datetime.now(UTC)
        assert await worker.run_once() == 1
        (row,) = await delivery_rows(engine)
        assert (row.state, row.attempts, row.last_status) == ("pending", attempt, None)
        assert "127.0.0.1" in row.last_error
        due = row.next_attempt_at.replace(tzinfo=UTC)
        nominal = base * 2 ** (attempt - 1)
        assert nominal * 0.8 - 0.01 <= (due - before).total_seconds() <= nominal * 1.2 + 0.1
        assert await worker.run_once() == 0  # not due yet: no request
        await until_due(engine)
    await sink.start()  # the peer comes back on the same port
    try:
        assert await worker.run_once() == 1
    finally:
        await sink.stop()
    (row,) = await delivery_rows(engine)
    assert (row.state, row.attempts, row.last_status) == ("done", 4, 202)
    assert [r.activity_id for r in sink.delivered()] == [activity(1)["id"]]


async def test_retry_after_is_honoured_and_capped(
    engine: AsyncEngine, rsa_key: rsa.RSAPrivateKey, workers: Workers
) -> None:
    def answer(got: Received) -> tuple[int, dict[str, str]]:
        return (
            (429, {"Retry-After": "2"}) if got.path == "/slow" else (503, {"Retry-After": "3600"})
        )

    async with running_sinks(1, rsa_key.public_key()) as (sink,):
        sink.answer = answer
        await send(engine, 1, [sink.url("/slow"), sink.url("/away")])
        before = datetime.now(UTC)
        assert await workers(engine).run_once() == 2
    slow, away = await delivery_rows(engine)
    assert (slow.state, slow.last_status, away.state, away.last_status) == (
        "pending",
        429,
        "pending",
        503,
    )
    wait = (slow.next_attempt_at.replace(tzinfo=UTC) - before).total_seconds()
    assert 2.0 <= wait < 2.5  # asked for 2 s; our own backoff would have been 0.05 s
    wait = (away.next_attempt_at.replace(tzinfo=UTC) - before).total_seconds()
    assert 4.0 <= wait < 5.5  # asked for an hour; capped at backoff_cap (5 s here)


async def test_which_failures_are_permanent(
    engine: AsyncEngine, rsa_key: rsa.RSAPrivateKey, workers: Workers
) -> None:
    statuses = {
        "/gone": 410,
        "/forbidden": 403,
        "/bad": 400,
        "/unauthorized": 401,
        "/error": 500,
        "/timeout": 408,
        "/moved": 301,
    }
    async with running_sinks(1, rsa_key.public_key()) as (sink,):
        sink.answer = lambda got: (statuses[got.path], {"Location": "/elsewhere"})
        await send(engine, 1, [sink.url(path) for path in statuses])
        worker = workers(engine, breaker_threshold=100, unauthorized_attempts=2)
        assert await worker.run_once() == 7
        first = {
            r.inbox.rsplit("/", 1)[1]: (r.state, r.last_status) for r in await delivery_rows(engine)
        }
        await until_due(engine)
        assert await worker.run_once() == 4  # the retryable ones, once more
    second = {r.inbox.rsplit("/", 1)[1]: (r.state, r.attempts) for r in await delivery_rows(engine)}
    assert first == {
        "gone": ("dead", 410),
        "forbidden": ("dead", 403),
        "bad": ("dead", 400),
        "unauthorized": ("pending", 401),
        "error": ("pending", 500),
        "timeout": ("pending", 408),
        "moved": ("pending", 301),
    }
    assert second == {
        "gone": ("dead", 1),
        "forbidden": ("dead", 1),
        "bad": ("dead", 1),
        "unauthorized": ("dead", 2),
        "error": ("pending", 2),
        "timeout": ("pending", 2),
        "moved": ("pending", 2),
    }


async def test_dead_after_max_age_and_for_refused_addresses(
    engine: AsyncEngine, rsa_key: rsa.RSAPrivateKey, workers: Workers
) -> None:
    async with running_sinks(1, rsa_key.public_key()) as (sink,):
        sink.status = 503
        old = datetime.now(UTC) - timedelta(days=4)
        await send(engine, 1, [sink.url("/old")], now=old)
        await send(engine, 2, [sink.url("/new")])
        assert await workers(engine, backoff_base=timedelta(seconds=5)).run_once() == 2
    old_row, new_row = await delivery_rows(engine)
    assert (old_row.state, old_row.last_status) == ("dead", 503)
    assert "still failing after 3 days" in old_row.last_error
    assert new_row.state == "pending"

    # The production guard: no private addresses, so 127.0.0.1 is refused without a request.
    strict = SafeFetcher(signer=CavageAuth(KEY_ID, rsa_key), allow_http=True, deadline=0.5)
    try:
        await send(engine, 3, ["http://127.0.0.1:9/inbox"])
        settings = DeliverySettings(lease=timedelta(seconds=2))
        assert await DeliveryWorker(engine, strict, settings, "strict").run_once() == 1
    finally:
        await strict.aclose()
    blocked = (await delivery_rows(engine))[-1]
    assert blocked.state == "dead" and "refusing" in blocked.last_error


async def test_a_worker_needs_a_signer_and_a_lease_longer_than_a_send(
    engine: AsyncEngine, rsa_key: rsa.RSAPrivateKey
) -> None:
    async with SafeFetcher(deadline=10) as unsigned:
        with pytest.raises(ValueError, match="signed"):
            DeliveryWorker(engine, unsigned, DeliverySettings(), "w")
        short = DeliverySettings(lease=timedelta(seconds=5))
        with pytest.raises(ValueError, match="lease"):
            DeliveryWorker(engine, unsigned, short, "w", auth=CavageAuth(KEY_ID, rsa_key))
