"""The delivery worker's reliability: circuit breaker, several workers, a killed worker,
the long-running loop."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncEngine

from federation import delivery_queue
from federation.delivery import DeliveryWorker
from federation.outbox import publish
from federation.transactions import write
from registry.core import db
from tests.federation.db_fixtures import (
    FAST,
    Workers,
    activity,
    delivery_rows,
    host_row,
    running_sinks,
)


async def send(engine: AsyncEngine, numbers: range, inboxes: list[str]) -> None:
    async with write(engine) as conn:
        for n in numbers:
            await publish(conn, activity(n), inboxes, public=True)


async def states(engine: AsyncEngine) -> Counter[str]:
    return Counter(row.state for row in await delivery_rows(engine))


def near(when: datetime, expected: datetime) -> bool:
    """Deferred to when the circuit closes (the worker's clock and the table's differ by
    the time it took to write the result)."""
    return abs(when.replace(tzinfo=UTC) - expected) < timedelta(seconds=0.2)


async def wait_until_all_done(engine: AsyncEngine, total: int, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while (await states(engine))["done"] < total:
        assert time.monotonic() < deadline, await states(engine)
        await asyncio.sleep(0.05)


async def test_circuit_opens_and_no_request_reaches_the_host_while_open(
    engine: AsyncEngine, rsa_key: rsa.RSAPrivateKey, workers: Workers
) -> None:
    async with running_sinks(1, rsa_key.public_key()) as (sink,):
        sink.status = 500
        await send(engine, range(8), [sink.url()])
        worker = workers(engine, per_host=1, breaker_threshold=3)
        assert await worker.run_once() == 8
        assert len(sink.received) == 3  # then the circuit opened: the other 5 were not sent
        breaker = await host_row(engine, sink.host)
        assert breaker.consecutive_failures == 3 and breaker.open_until is not None
        open_until = breaker.open_until.replace(tzinfo=UTC)
        rows = await delivery_rows(engine)
        assert [r.attempts for r in rows] == [1, 1, 1, 0, 0, 0, 0, 0]
        assert all(near(r.next_attempt_at, open_until) for r in rows[3:])

        # Another worker (fresh memory) learns it from the table: new deliveries are moved too.
        await send(engine, range(8, 10), [sink.url()])
        assert await workers(engine, "w2").run_once() == 0
        assert len(sink.received) == 3
        rows = await delivery_rows(engine)
        assert all(near(r.next_attempt_at, open_until) for r in rows[8:])
        assert all(r.locked_by is None for r in rows)

        # Half-open after the cooldown: one probe; it fails, so the circuit opens again.
        await asyncio.sleep((open_until - datetime.now(UTC)).total_seconds() + 0.05)
        assert await worker.run_once() == 10
        assert len(sink.received) == 4
        reopened = (await host_row(engine, sink.host)).open_until.replace(tzinfo=UTC)
        assert reopened > open_until

        # Next probe succeeds: the circuit closes and everything goes out.
        sink.status = 202
        await asyncio.sleep((reopened - datetime.now(UTC)).total_seconds() + 0.05)
        assert await worker.run_once() == 10
    assert len(sink.received) == 14 and len(sink.delivered()) == 10
    assert await states(engine) == {"done": 10}
    breaker = await host_row(engine, sink.host)
    assert breaker.consecutive_failures == 0 and breaker.open_until is None


@pytest.mark.parametrize("engines", ["one engine", "two engines"])
async def test_two_workers_send_each_delivery_exactly_once(
    engine: AsyncEngine,
    database_url: str,
    engines: str,
    rsa_key: rsa.RSAPrivateKey,
    workers: Workers,
) -> None:
    # Two engines stand for two worker processes (on SQLite: two connections to one file).
    other = db.create_engine(database_url) if engines == "two engines" else engine
    try:
        async with running_sinks(5, rsa_key.public_key()) as sinks:
            inboxes = [sink.url(f"/users/{n}/inbox") for sink in sinks for n in range(10)]
            await send(engine, range(10), inboxes)  # 500 deliveries
            stop = asyncio.Event()
            # A send that times out after the sink took it is sent again (at least once, by
            # design); a deadline no loaded machine reaches keeps this test about two workers.
            settings = {"batch": 20, "lease": timedelta(seconds=10), "deadline": 4.0}
            runs = [
                asyncio.create_task(workers(engine, "w1", **settings).run(stop)),
                asyncio.create_task(workers(other, "w2", **settings).run(stop)),
            ]
            try:
                await wait_until_all_done(engine, 500)
            finally:
                stop.set()
                await asyncio.gather(*runs)
    finally:
        if other is not engine:
            await other.dispose()
    sent = Counter((sink.port, r.path, r.activity_id) for sink in sinks for r in sink.received)
    assert len(sent) == 500 and set(sent.values()) == {1}
    assert all(r.verified for sink in sinks for r in sink.received)
    rows = await delivery_rows(engine)
    assert {(r.state, r.attempts, r.locked_by) for r in rows} == {("done", 1, None)}


async def test_killed_worker_rows_are_taken_over_after_the_lease(
    engine: AsyncEngine, rsa_key: rsa.RSAPrivateKey, workers: Workers
) -> None:
    async with running_sinks(2, rsa_key.public_key()) as sinks:
        for sink in sinks:
            sink.hold = asyncio.Event()  # requests hang: the worker is killed mid-send
        await send(engine, range(5), [sink.url() for sink in sinks])
        doomed = asyncio.create_task(workers(engine, "doomed").run_once())
        while sum(len(sink.received) for sink in sinks) < 8:
            await asyncio.sleep(0.01)
        doomed.cancel()  # as good as kill -9: nothing is recorded
        with pytest.raises(asyncio.CancelledError):
            await doomed
        rows = await delivery_rows(engine)
        assert {(r.state, r.locked_by) for r in rows} == {("pending", "doomed")}
        for sink in sinks:
            sink.hold.set()

        heir = workers(engine, "heir")
        assert await heir.run_once() == 0  # the lease still holds
        lease_end = max(r.locked_until for r in rows).replace(tzinfo=UTC)
        await asyncio.sleep((lease_end - datetime.now(UTC)).total_seconds() + 0.05)
        # Just past its end the lease is still respected for a grace of half a lease, in
        # which a holder that finished in time records its result; then the rows are free.
        assert await heir.run_once() == 0
        grace = FAST["lease"] / 2
        await asyncio.sleep((lease_end + grace - datetime.now(UTC)).total_seconds() + 0.05)
        assert await heir.run_once() == 10
    rows = await delivery_rows(engine)
    assert {(r.state, r.locked_by) for r in rows} == {("done", None)}
    for sink in sinks:  # none lost; some twice (at least once: receivers dedupe by id)
        assert {r.activity_id for r in sink.delivered()} == {activity(n)["id"] for n in range(5)}


async def test_wake_sends_at_once_and_run_survives_database_errors(
    engine: AsyncEngine,
    rsa_key: rsa.RSAPrivateKey,
    workers: Workers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failures = [RuntimeError("database gone for a moment")]
    real_claim = delivery_queue.claim

    async def flaky_claim(*args: object, **kwargs: object) -> list[delivery_queue.Job]:
        if failures:
            raise failures.pop()
        return await real_claim(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(delivery_queue, "claim", flaky_claim)
    async with running_sinks(1, rsa_key.public_key()) as (sink,):
        worker: DeliveryWorker = workers(engine, poll_interval=timedelta(seconds=30))
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        try:
            await asyncio.sleep(0.1)  # the first claim failed; the loop keeps going
            assert not failures and not running.done()
            worker.wake()  # the failed round waits a poll interval (30 s) unless woken
            await asyncio.sleep(0.1)
            await send(engine, range(1), [sink.url()])
            started = time.monotonic()
            worker.wake()
            await wait_until_all_done(engine, 1)
            assert time.monotonic() - started < 1.0  # not the 30 s poll
        finally:
            stop.set()
            await asyncio.wait_for(running, 2)
    assert len(sink.delivered()) == 1
