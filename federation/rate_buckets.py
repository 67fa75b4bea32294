"""Token buckets in the database, shared by every process of a node.

With `serve --workers N` and separate `worker` processes, buckets kept in each process's
memory would give a sender N times its allowance. Here a bucket is one row; taking a token
reads it under a row lock (PostgreSQL; SQLite has one writer anyway), refills it for the time
passed, and writes it back, in one short transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.tables import rate_buckets
from federation.token_bucket import refilled, take, wait_for_token
from federation.transactions import write
from federation.upserts import upsert


class SharedBuckets:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def take(self, key: str, per_second: float, burst: int, *, spend: bool = True) -> float:
        """0 when a token was spent (or, with `spend=False`, is there), else the seconds
        until one is available."""
        async with write(self.engine) as conn:
            row = (
                await conn.execute(
                    select(rate_buckets.c.tokens, rate_buckets.c.updated_at)
                    .where(rate_buckets.c.key == key[:300])
                    .with_for_update()
                )
            ).first()
            now = datetime.now(UTC)
            tokens = float(burst)
            if row is not None:
                then = row.updated_at
                then = then.replace(tzinfo=UTC) if then.tzinfo is None else then
                tokens = refilled(row.tokens, (now - then).total_seconds(), per_second, burst)
            if spend:
                tokens, wait = take(tokens, per_second)
            else:
                wait = wait_for_token(tokens, per_second)
            if spend or row is None:
                await upsert(
                    conn, rate_buckets, {"key": key[:300]}, {"tokens": tokens, "updated_at": now}
                )
        return wait

    async def give_back(self, key: str, per_second: float, burst: int) -> None:
        async with write(self.engine) as conn:
            row = (
                await conn.execute(
                    select(rate_buckets.c.tokens)
                    .where(rate_buckets.c.key == key[:300])
                    .with_for_update()
                )
            ).first()
            if row is not None:
                await conn.execute(
                    rate_buckets.update()
                    .where(rate_buckets.c.key == key[:300])
                    .values(tokens=refilled(row.tokens + 1.0, 0.0, per_second, burst))
                )
