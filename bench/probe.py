"""Reading a node's database from the benchmark process (counts, ids), to see when work the
server does in the background has finished."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.core import db


def engine_for(url: str) -> AsyncEngine:
    return db.create_engine(url, pool_size=2)


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(text(sql), params))


async def wait_until(
    engine: AsyncEngine, sql: str, target: int, *, limit: float, interval: float = 0.05
) -> tuple[float, int]:
    """Poll `sql` (a count) until it reaches `target`; returns (monotonic time, count)."""
    deadline = time.perf_counter() + limit
    count = 0
    while time.perf_counter() < deadline:
        count = int(await scalar(engine, sql) or 0)
        if count >= target:
            return time.perf_counter(), count
        await asyncio.sleep(interval)
    return time.perf_counter(), count
