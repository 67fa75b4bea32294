"""Two processes writing one SQLite file (a web process and a worker, as deployed): a write
transaction that finds the other writing waits for it and then goes ahead; the wait ends
within a few milliseconds of the other's commit, not at SQLite's next busy-handler sleep;
and it gives up, with SQLite's own error, only after the busy timeout. Two engines on one
file stand for the two processes: each has its own in-process writer queue."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from registry.core import db


@pytest.fixture
async def engines(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = db.create_engine(url), db.create_engine(url)
    async with db.write(first) as conn:
        await conn.exec_driver_sql("CREATE TABLE marks (who TEXT, at REAL)")
    yield first, second
    await first.dispose()
    await second.dispose()


async def hold_write_lock(engine, seconds: float, started: asyncio.Event) -> float:  # type: ignore[no-untyped-def]
    async with db.write(engine) as conn:
        await conn.exec_driver_sql("INSERT INTO marks VALUES ('holder', 0)")
        started.set()
        await asyncio.sleep(seconds)
    return time.monotonic()  # committed


async def test_a_writer_waits_for_the_other_process_and_follows_at_once(engines) -> None:  # type: ignore[no-untyped-def]
    first, second = engines
    started = asyncio.Event()
    holder = asyncio.ensure_future(hold_write_lock(first, 0.24, started))
    await started.wait()
    async with db.write(second) as conn:
        got_lock = time.monotonic()
        await conn.exec_driver_sql("INSERT INTO marks VALUES ('waiter', 0)")
        # The busy timeout is back where it was for the statements of the transaction.
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == db.BUSY_TIMEOUT_MS
    committed = await holder
    # SQLite's own handler would be asleep for up to 100 ms at this point (1 + 2 + 5 + ...
    # ms after 240 ms of waiting); ours tries again every millisecond.
    assert got_lock - committed < 0.04
    async with db.read(second) as conn:
        rows = (await conn.exec_driver_sql("SELECT who FROM marks ORDER BY rowid")).all()
    assert [row.who for row in rows] == ["holder", "waiter"]


async def test_a_writer_gives_up_after_the_busy_timeout(engines, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first, second = engines
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    started = asyncio.Event()
    holder = asyncio.ensure_future(hold_write_lock(first, 1.0, started))
    await started.wait()
    began = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        async with db.write(second) as conn:
            await conn.exec_driver_sql("INSERT INTO marks VALUES ('waiter', 0)")
    assert 0.2 <= time.monotonic() - began < 0.9
    await holder
    async with db.write(second) as conn:  # the connection is still usable afterwards
        await conn.exec_driver_sql("INSERT INTO marks VALUES ('later', 0)")
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 200
