"""What one sender can have in flight before it is verified, and how many key fetches run
at once: beyond that the inbox answers 429 or 503 with `Retry-After` instead of queueing
work that an unauthenticated sender chose (a slow key host, a flood of new key ids)."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator

from federation.actors import ActorError


class Busy(ActorError):
    """No key fetch slot is free: try again in `retry_after` seconds."""

    def __init__(self, reason: str, retry_after: int = 5) -> None:
        super().__init__(reason, permanent=False)
        self.retry_after = retry_after


class TooManyInFlight(Exception):
    def __init__(self, reason: str, retry_after: int = 1) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Admission:
    def __init__(self, per_address: int = 8) -> None:
        self.per_address = per_address
        self._in_flight: Counter[str] = Counter()

    @contextlib.contextmanager
    def unverified(self, address: str | None) -> Iterator[None]:
        """Hold one of `address`'s slots while its request is checked (not after)."""
        if address is None:
            yield
            return
        if self._in_flight[address] >= self.per_address:
            raise TooManyInFlight(
                f"{address} already has {self.per_address} requests being verified"
            )
        self._in_flight[address] += 1
        try:
            yield
        finally:
            self._in_flight[address] -= 1
            if not self._in_flight[address]:
                del self._in_flight[address]
