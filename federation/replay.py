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

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.tables import seen_signatures
from federation.upserts import upsert_rows

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
    """The replay memory in the database (and in this process, to spare the database when the
    same process sees the replay). Both the look and the record run in the transaction that
    stores the activities (`federation.inbox_writer`): a signature is remembered exactly when
    its request was taken, and two workers cannot both take the same one."""

    def __init__(self, lifetime_seconds: float) -> None:
        self.lifetime = timedelta(seconds=lifetime_seconds)
        self.local = ReplayGuard(lifetime_seconds)
        self._since_purge = 0

    def remember_here(self, signatures: list[str]) -> None:
        """Keep in this process what a committed `take` recorded (not before: a request
        whose transaction failed may be sent again as it was)."""
        for signature in signatures:
            self.local.remember(signature)

    def seen_here(self, signature: str) -> bool:
        """Whether this process already took a request with this signature."""
        return self.local.seen(signature)

    async def take(self, conn: AsyncConnection, signatures: list[str]) -> set[str]:
        """Record the signatures of requests to be taken, in one statement, and return those
        that were free: new, or used so long ago that they could no longer verify (their row
        gets a new lease of life). The others were used while they could verify: replays.
        Call `remember_here` with the free ones once the transaction commits."""
        by_digest = {_digest(signature).hex(): signature for signature in signatures}
        if not by_digest:
            return set()
        now = datetime.now(UTC)
        rows = [{"digest": digest, "expires_at": now + self.lifetime} for digest in by_digest]
        free = await upsert_rows(
            conn,
            seen_signatures,
            rows,
            key=["digest"],
            update=["expires_at"],
            only_where=seen_signatures.c.expires_at <= now,
            returning=seen_signatures.c.digest,
        )
        self._since_purge += len(signatures)
        if self._since_purge >= PURGE_EVERY:
            self._since_purge = 0
            await conn.execute(delete(seen_signatures).where(seen_signatures.c.expires_at <= now))
        return {by_digest[digest] for digest in free}
