"""Group commit of received activities: requests that arrive together are stored in one
transaction, and a replayed signature or an id already held is still told apart per request."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine.default import CACHE_HIT
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.inbox_writer import InboxWriter, Replayed
from federation.replay import SharedReplayGuard
from federation.tables import inbox_items, seen_signatures
from federation.transactions import write
from tests.federation.test_dispatch_batch import counting_commits


def row(n: int) -> dict:
    now = datetime.now(UTC)
    actor = "https://a.example/actor"
    return {
        "activity_id": f"https://a.example/act/{n}",
        "actor": actor,
        "host": "a.example",
        "type": "Create",
        "object_id": None,
        "body": orjson.dumps({"id": f"https://a.example/act/{n}"}).decode(),
        "signer": actor + "#main-key",
        "received_at": now,
        "state": "pending",
        "attempts": 0,
        "available_at": now,
        "result": None,
        "processed_at": None,
    }


async def stored_ids(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(inbox_items.c.activity_id).order_by(inbox_items.c.id))
        return [r.activity_id for r in rows]


async def test_requests_waiting_together_share_one_transaction(engine: AsyncEngine) -> None:
    writer = InboxWriter(engine, SharedReplayGuard(3600))
    commits = counting_commits(engine)
    outcomes = await asyncio.gather(*(writer.store(row(n), f"sig-{n}") for n in range(50)))
    assert outcomes == [True] * 50
    # All fifty arrived before the writer's first turn: one transaction, not fifty.
    assert len(commits) == 1
    assert await stored_ids(engine) == [f"https://a.example/act/{n}" for n in range(50)]
    async with engine.connect() as conn:
        assert len((await conn.execute(select(seen_signatures))).all()) == 50


async def test_requests_arriving_while_the_writer_waits_for_the_lock_join_it(
    engine: AsyncEngine,
) -> None:
    """On SQLite the web process waits for the write lock behind the worker's apply; what
    arrives meanwhile goes into the transaction that then gets the lock, not the next one."""
    if engine.dialect.name != "sqlite":
        pytest.skip("a PostgreSQL transaction waits for no write lock when it begins")
    writer = InboxWriter(engine, SharedReplayGuard(3600))
    holding, release = asyncio.Event(), asyncio.Event()

    async def another_writer() -> None:
        async with write(engine) as conn:
            await conn.execute(select(1))
            holding.set()
            await release.wait()

    blocker = asyncio.ensure_future(another_writer())
    await holding.wait()
    commits = counting_commits(engine)
    first = asyncio.ensure_future(writer.store(row(0), "sig-0"))
    await asyncio.sleep(0.05)  # the writer has taken its turn and waits for the lock
    later = [asyncio.ensure_future(writer.store(row(n), f"sig-{n}")) for n in range(1, 10)]
    await asyncio.sleep(0.01)
    release.set()
    await blocker
    assert await asyncio.gather(first, *later) == [True] * 10
    assert len(commits) == 2, commits  # the other writer's, then one for all ten
    assert len(await stored_ids(engine)) == 10


async def test_each_batch_is_one_insert_per_table_compiled_once(engine: AsyncEngine) -> None:
    """Whatever a batch's size, its rows go in one INSERT per table, and the statement is
    compiled once and then taken from SQLAlchemy's cache (a VALUES list written out for each
    new length cost a tenth of a busy inbox's CPU)."""
    writer = InboxWriter(engine, SharedReplayGuard(3600))
    inserts: list[tuple[str, bool]] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO"):
            inserts.append((statement.split()[2], context.cache_hit is CACHE_HIT))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        for start, size in ((0, 7), (7, 30), (37, 2)):
            batch = range(start, start + size)
            assert (
                await asyncio.gather(*(writer.store(row(n), f"sig-{n}") for n in batch))
                == [True] * size
            )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert [table for table, _ in inserts] == ["seen_signatures", "inbox_items"] * 3
    assert [hit for _, hit in inserts[2:]] == [True] * 4, inserts
    assert len(await stored_ids(engine)) == 39


async def test_a_replay_and_a_held_id_are_told_apart_within_a_batch(engine: AsyncEngine) -> None:
    guard = SharedReplayGuard(3600)
    writer = InboxWriter(engine, guard)
    assert await writer.store(row(0), "sig-0")
    results = await asyncio.gather(
        writer.store(row(1), "sig-1"),
        writer.store(row(1), "sig-1"),  # the same request twice in one batch: a replay
        writer.store(row(1), "sig-1b"),  # the same activity signed afresh: a duplicate
        writer.store(row(0), "sig-0b"),  # an id stored by an earlier batch
        writer.store(row(2), "sig-0"),  # a signature taken by an earlier batch
        return_exceptions=True,
    )
    assert results[0] is True
    assert isinstance(results[1], Replayed)
    assert results[2] is False
    assert results[3] is False
    assert isinstance(results[4], Replayed)
    assert await stored_ids(engine) == ["https://a.example/act/0", "https://a.example/act/1"]
    # Another worker process, with nothing in its memory, refuses the replay from the table.
    other = InboxWriter(engine, SharedReplayGuard(3600))
    with pytest.raises(Replayed):
        await other.store(row(3), "sig-1")


async def test_a_row_that_cannot_be_stored_fails_alone(engine: AsyncEngine) -> None:
    writer = InboxWriter(engine, SharedReplayGuard(3600))
    broken = row(1) | {"state": None}  # NOT NULL: the batch's insert fails as a whole
    results = await asyncio.gather(
        writer.store(row(0), "sig-0"),
        writer.store(row(2), "sig-2"),
        writer.store(broken, "sig-1"),
        writer.store(row(3), "sig-3"),
        return_exceptions=True,
    )
    assert results[:2] == [True, True] and results[3] is True
    assert isinstance(results[2], Exception) and not isinstance(results[2], Replayed)
    assert await stored_ids(engine) == [f"https://a.example/act/{n}" for n in (0, 2, 3)]
    # Nothing was remembered of the failed request: its sender may try again as it was.
    assert await writer.store(row(1), "sig-1")
