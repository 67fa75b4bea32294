"""Read and write transactions on the engine the application hands the federation layer.

A write transaction carries an execution option that the application's engine set-up turns
into `BEGIN IMMEDIATE` on SQLite, so that two writers queue on the database lock instead of
failing when a deferred transaction tries to upgrade; on PostgreSQL it is a plain BEGIN.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

WRITE_OPTION = "registry_write"


@asynccontextmanager
async def write(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that will write: commits on success, rolls back on any error."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{WRITE_OPTION: True})
        async with conn.begin():
            yield conn


@asynccontextmanager
async def read(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A read-only transaction (a consistent snapshot for the queries inside it)."""
    async with engine.connect() as conn, conn.begin():
        yield conn
