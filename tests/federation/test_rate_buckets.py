"""Shared token buckets with per-process reservations: a busy key writes its row a few times
a second instead of once per request, and two processes together never get more than the
allowance."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.rate_buckets import SharedBuckets


def counting_statements(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: seen.append(statement.split()[0].upper()),
    )
    return seen


async def test_a_busy_key_is_written_once_per_reservation(engine: AsyncEngine) -> None:
    buckets = SharedBuckets(engine)
    statements = counting_statements(engine)
    # 6,000 a second with a burst of 10,000: a reservation is 600 tokens.
    waits = [await buckets.take("inbox:a.example", 6000.0, 10_000) for _ in range(1200)]
    assert waits == [0.0] * 1200
    assert statements.count("INSERT") == 2  # two reservations (upserts), not 1,200 writes


async def test_two_processes_never_spend_more_than_the_burst(engine: AsyncEngine) -> None:
    first, second = SharedBuckets(engine), SharedBuckets(engine)
    granted = 0
    for n in range(400):
        wait = await (first if n % 2 else second).take("inbox:b.example", 0.001, 100)
        granted += wait == 0.0
    # Each reservation is a tenth of the burst; what a process reserved the other cannot
    # spend, so the two together get the burst at most (here exactly: both drain their share).
    assert granted == 100


async def test_a_token_given_back_goes_into_the_reservation(engine: AsyncEngine) -> None:
    buckets = SharedBuckets(engine)
    assert await buckets.take("inbox:c.example", 0.001, 1) == 0.0
    assert await buckets.take("inbox:c.example", 0.001, 1) > 0  # the only token is spent
    await buckets.give_back("inbox:c.example", 0.001, 1)
    assert await buckets.take("inbox:c.example", 0.001, 1) == 0.0
