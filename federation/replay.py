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

    def first_use(self, signature: str, now: float | None = None) -> bool:
        """Record `signature`; False when it was already used and is still live."""
        now = time.monotonic() if now is None else now
        while self._seen and next(iter(self._seen.values())) <= now:
            self._seen.popitem(last=False)
        digest = hashlib.sha256(signature.encode("utf-8", "surrogatepass")).digest()
        if digest in self._seen:
            return False
        self._seen[digest] = now + self.lifetime
        if len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
        return True
