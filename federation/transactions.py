"""Read and write transactions on the engine the application hands the federation layer.

A write transaction carries an execution option that the application's engine set-up turns
into `BEGIN IMMEDIATE` on SQLite, so that two writers queue on the database lock instead of
failing when a deferred transaction tries to upgrade; on PostgreSQL it is a plain BEGIN.

SQLite has one writer. Writers of one process also queue on an asyncio lock before they ask
SQLite for its write lock: a connection that finds the database locked sleeps in SQLite's busy
handler (for up to 100 ms at a time) while the loop sits idle, which cut the inbox to a few
dozen activities a second under load. Other processes still queue through busy_timeout.
So a write transaction must never open another one (it would wait for itself; on SQLite it
always did, for busy_timeout, before failing).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

WRITE_OPTION = "registry_write"
T = TypeVar("T")

# One lock per SQLite engine and event loop (a lock belongs to the loop it is used in).
_writer_locks: weakref.WeakKeyDictionary[object, dict[int, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _writer_lock(engine: AsyncEngine) -> asyncio.Lock | None:
    if engine.dialect.name != "sqlite":
        return None
    per_loop = _writer_locks.setdefault(engine.sync_engine, {})
    return per_loop.setdefault(id(asyncio.get_running_loop()), asyncio.Lock())


@asynccontextmanager
async def write(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that will write: commits on success, rolls back on any error."""
    async with AsyncExitStack() as stack:
        lock = _writer_lock(engine)
        if lock is not None:
            await stack.enter_async_context(lock)
        conn = await stack.enter_async_context(engine.connect())
        conn = await conn.execution_options(**{WRITE_OPTION: True})
        async with conn.begin():
            yield conn


@asynccontextmanager
async def read(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A read-only transaction (a consistent snapshot for the queries inside it)."""
    async with engine.connect() as conn, conn.begin():
        yield conn


# A batch of inbox activities is applied in one transaction (federation.dispatch); what every
# activity of the batch asks again (is the sender a partner, is its domain blocked, who gets
# a reshare) is asked once per batch and remembered in the connection until the batch ends.
_BATCH_MEMO = "federation.batch_memo"


@asynccontextmanager
async def batch_memo(conn: AsyncConnection) -> AsyncIterator[None]:
    """Within this block, `remembered` answers each question once on `conn`."""
    conn.info[_BATCH_MEMO] = {}
    try:
        yield
    finally:
        conn.info.pop(_BATCH_MEMO, None)


async def remembered(
    conn: AsyncConnection, key: Hashable, compute: Callable[[], Awaitable[T]]
) -> T:
    """`compute()`, asked once per batch for `key` (every time outside a batch). For reads
    whose answer the batch's own writes do not change."""
    memo = conn.info.get(_BATCH_MEMO)
    if memo is None:
        return await compute()
    if key not in memo:
        memo[key] = await compute()
    return memo[key]


def forget_remembered(conn: AsyncConnection) -> None:
    """Called by a write that changes what `remembered` answers (a follow recorded, decided
    or removed): the rest of the batch asks again."""
    memo = conn.info.get(_BATCH_MEMO)
    if memo is not None:
        memo.clear()
