"""Refusing a captured request sent again: each verified signature is good for one request.

Honest senders sign every attempt afresh (a new `Date`), so a byte-identical signature that
arrives twice is a replay. A signature is only worth remembering while it could still
verify, that is for the clock-skew window, so the memory is bounded by the window and by a
size cap. `ReplayGuard` keeps it in the process; `SharedReplayGuard` also in the database,
so that a replay sent to another web worker (`serve --workers N`) is refused as well.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation.tables import seen_signatures
from federation.transactions import read
from federation.upserts import insert_new

PURGE_EVERY = 1000  # expired rows are deleted by every this many remembered signatures


class ReplayGuard:
    def __init__(self, lifetime_seconds: float, max_entries: int = 200_000) -> None:
        self.lifetime = lifetime_seconds
        self.max_entries = max_entries
        self._seen: OrderedDict[bytes, float] = OrderedDict()  # digest -> expiry, oldest first

    def seen(self, signature: str, now: float | None = None) -> bool:
        """Whether `signature` was already used by a request that was taken."""
        self._expire(time.monotonic() if now is None else now)
        return _digest(signature) in self._seen

    def remember(self, signature: str, now: float | None = None) -> None:
        """Record the signature of a request that was taken (stored). Only then: a request
        that failed on our side may be retried at once, with the same `Date` and so the
        same signature, and must not be refused for it."""
        now = time.monotonic() if now is None else now
        self._seen[_digest(signature)] = now + self.lifetime
        if len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)

    def first_use(self, signature: str, now: float | None = None) -> bool:
        """`seen` and `remember` in one step; False when it was already used."""
        if self.seen(signature, now):
            return False
        self.remember(signature, now)
        return True

    def _expire(self, now: float) -> None:
        while self._seen and next(iter(self._seen.values())) <= now:
            self._seen.popitem(last=False)


def _digest(signature: str) -> bytes:
    return hashlib.sha256(signature.encode("utf-8", "surrogatepass")).digest()


class SharedReplayGuard:
    """The replay memory in the database (and in this process, to spare a read when the same
    process sees the replay). `remember` writes in the caller's transaction, the one that
    stores the activity: a signature is remembered exactly when its request was taken."""

    def __init__(self, engine: AsyncEngine, lifetime_seconds: float) -> None:
        self.engine = engine
        self.lifetime = timedelta(seconds=lifetime_seconds)
        self.local = ReplayGuard(lifetime_seconds)
        self._since_purge = 0

    async def seen(self, signature: str) -> bool:
        if self.local.seen(signature):
            return True
        async with read(self.engine) as conn:
            row = (
                await conn.execute(
                    select(seen_signatures.c.expires_at).where(
                        seen_signatures.c.digest == _digest(signature).hex(),
                        seen_signatures.c.expires_at > datetime.now(UTC),
                    )
                )
            ).first()
        return row is not None

    async def remember(self, conn: AsyncConnection, signature: str) -> None:
        self.local.remember(signature)
        now = datetime.now(UTC)
        digest = _digest(signature).hex()
        inserted = await insert_new(
            conn,
            seen_signatures,
            {"digest": digest, "expires_at": now + self.lifetime},
            unique=["digest"],
        )
        if not inserted:  # an expired row of the same digest: a new lease of life
            await conn.execute(
                seen_signatures.update()
                .where(seen_signatures.c.digest == digest)
                .values(expires_at=now + self.lifetime)
            )
        self._since_purge += 1
        if self._since_purge >= PURGE_EVERY:
            self._since_purge = 0
            await conn.execute(delete(seen_signatures).where(seen_signatures.c.expires_at <= now))
