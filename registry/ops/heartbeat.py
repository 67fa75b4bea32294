"""Workers report that they are alive, so that /readyz can tell whether anyone works the queues.

Each process that runs the inbox and delivery workers (a server with
`federation.workers_in_server`, or `commons-registry worker`) writes its name and the time to
`node_state` every few seconds; a web process without workers reads the newest beat. No new
table: one small row per live process, and beats older than a day are swept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.transactions import write
from federation.upserts import upsert
from registry.core.schema import node_state

PREFIX = "heartbeat:"
INTERVAL = 10.0  # seconds between beats
SWEEP_AFTER = timedelta(days=1)

log = logging.getLogger("registry.ops")


def _now() -> datetime:
    return datetime.now(UTC)


async def beat(engine: AsyncEngine, worker: str) -> None:
    now = _now()
    async with write(engine) as conn:
        key = (PREFIX + worker)[:64]
        await upsert(conn, node_state, {"key": key}, {"value": now.isoformat()})
        swept = select(node_state.c.key).where(
            node_state.c.key.startswith(PREFIX),
            node_state.c.value < (now - SWEEP_AFTER).isoformat(),
        )
        await conn.execute(delete(node_state).where(node_state.c.key.in_(swept)))


async def newest_beat(engine: AsyncEngine) -> datetime | None:
    """When a worker process last reported alive (any process), or None if never."""
    async with engine.connect() as conn:
        query = select(func.max(node_state.c.value)).where(node_state.c.key.startswith(PREFIX))
        value = (await conn.execute(query)).scalar()
    return datetime.fromisoformat(value) if value else None


class Heartbeat:
    """A background task beside the workers: beats until told to stop."""

    def __init__(self, engine: AsyncEngine, worker: str, interval: float = INTERVAL) -> None:
        self.engine, self.worker, self.interval = engine, worker, interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await beat(self.engine, self.worker)
            except Exception:  # the database is away: /readyz says so; keep trying
                log.warning("heartbeat not written (database unreachable?)", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)
