"""Exponential backoff with jitter: how long to wait before trying something again.

One rule for every retry in the node (deliveries, inbox activities): `base * 2**(attempts-1)`,
spread ±`jitter` so that retries after one outage do not arrive together, never more than
`cap`; a wait the other side asked for (`Retry-After`) is honoured as a lower bound, itself
capped.
"""

from __future__ import annotations

import random
from datetime import timedelta


def backoff(
    attempts: int,
    *,
    base: timedelta,
    cap: timedelta,
    jitter: float = 0.2,
    at_least: float | None = None,
) -> timedelta:
    """The wait after `attempts` failed attempts (1 after the first failure)."""
    limit = cap.total_seconds()
    exponent = min(max(attempts, 1) - 1, 62)  # past any cap already; keeps the float small
    nominal = min(limit, base.total_seconds() * 2.0**exponent)
    seconds = min(limit, nominal * random.uniform(1 - jitter, 1 + jitter))
    if at_least is not None:
        seconds = max(seconds, min(limit, at_least))
    return timedelta(seconds=seconds)
