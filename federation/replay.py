"""Refusing a captured request sent again: each verified signature is good for one request.

Honest senders sign every attempt afresh (a new `Date`), so a byte-identical signature that
arrives twice is a replay. A signature is only worth remembering while it could still
verify, that is for the clock-skew window, so the memory is bounded by the window and by a
size cap. It is kept per process: with several web workers a replay that reaches another
worker is answered as a duplicate activity instead, and still never applied twice.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict


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
