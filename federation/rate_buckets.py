"""Token buckets in the database, shared by every process of a node.

With `serve --workers N` and separate `worker` processes, buckets kept in each process's
memory would give a sender N times its allowance. Here a bucket is one row; taking tokens
reads it under a row lock (PostgreSQL; SQLite has one writer anyway), refills it for the time
passed, and writes it back, in one short transaction.

A process does not write the row for every request: it takes a reservation of up to a tenth of
a second's allowance (at most a tenth of the burst, at least one token) and spends it from
memory. A busy partner's bucket is then written about ten times a second, not a thousand
(one row lock per request serialised every inbox POST from a host, issue 20), and nobody gets
more than the allowance: what one process reserved, the others cannot spend, and a reservation
left unspent for a second is simply lost. Asking whether a token is there without spending it
trusts the last look at the row for up to `LOOK_SECONDS`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.tables import rate_buckets
from federation.token_bucket import refilled, wait_for_token
from federation.transactions import write
from federation.upserts import upsert

RESERVE_SECONDS = 0.1  # a reservation is at most this long's allowance
RESERVATION_LIFETIME = 1.0  # seconds a reservation may be spent from memory
LOOK_SECONDS = 1.0  # how long a look that found a token is trusted by `spend=False`


class SharedBuckets:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._reserved: dict[str, tuple[int, float]] = {}  # key -> (tokens, usable until)
        self._looked: dict[str, float] = {}  # key -> until when a token was seen there

    async def take(self, key: str, per_second: float, burst: int, *, spend: bool = True) -> float:
        """0 when a token was spent (or, with `spend=False`, is there), else the seconds
        until one is available."""
        key = key[:300]
        now = time.monotonic()
        tokens, until = self._reserved.get(key, (0, 0.0))
        if tokens and until > now:
            if spend:
                self._reserved[key] = (tokens - 1, until)
            return 0.0
        if not spend and self._looked.get(key, 0.0) > now:
            return 0.0
        if len(self._reserved) > 10_000:  # one entry per busy key: forget the stale ones
            self._reserved = {k: v for k, v in self._reserved.items() if v[1] > now}
            self._looked = {k: v for k, v in self._looked.items() if v > now}
        want = max(1, min(int(per_second * RESERVE_SECONDS), burst // 10)) if spend else 0
        got, wait = await self._take_from_row(key, per_second, burst, want)
        if got > 1:
            self._reserved[key] = (got - 1, time.monotonic() + RESERVATION_LIFETIME)
        else:
            self._reserved.pop(key, None)
        if not spend and wait == 0.0:
            self._looked[key] = time.monotonic() + LOOK_SECONDS
        else:
            self._looked.pop(key, None)
        return wait

    async def _take_from_row(
        self, key: str, per_second: float, burst: int, want: int
    ) -> tuple[int, float]:
        """Take up to `want` whole tokens from the row (none: only look); returns (how many
        were taken, the wait for one when none was there)."""
        async with write(self.engine) as conn:
            row = (
                await conn.execute(
                    select(rate_buckets.c.tokens, rate_buckets.c.updated_at)
                    .where(rate_buckets.c.key == key)
                    .with_for_update()
                )
            ).first()
            now = datetime.now(UTC)
            tokens = float(burst)
            if row is not None:
                then = row.updated_at
                then = then.replace(tzinfo=UTC) if then.tzinfo is None else then
                tokens = refilled(row.tokens, (now - then).total_seconds(), per_second, burst)
            wait = wait_for_token(tokens, per_second)
            got = min(want, int(tokens)) if wait == 0.0 else 0
            if got or row is None:
                await upsert(
                    conn, rate_buckets, {"key": key}, {"tokens": tokens - got, "updated_at": now}
                )
        return got, wait

    async def give_back(self, key: str, per_second: float, burst: int) -> None:
        key = key[:300]
        tokens, until = self._reserved.get(key, (0, 0.0))
        if until > time.monotonic():  # back into this process's reservation
            self._reserved[key] = (tokens + 1, until)
            return
        async with write(self.engine) as conn:
            row = (
                await conn.execute(
                    select(rate_buckets.c.tokens).where(rate_buckets.c.key == key).with_for_update()
                )
            ).first()
            if row is not None:
                await conn.execute(
                    rate_buckets.update()
                    .where(rate_buckets.c.key == key)
                    .values(tokens=refilled(row.tokens + 1.0, 0.0, per_second, burst))
                )
