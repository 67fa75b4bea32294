"""The token-bucket arithmetic, wherever the bucket is kept (a process's memory, a table).

A bucket holds up to `burst` tokens and refills at `per_second`; a request takes one. Keeping
the arithmetic here means the in-process limiter and the shared, database-backed one cannot
disagree about what a limit means.
"""

from __future__ import annotations


def refilled(tokens: float, elapsed: float, per_second: float, burst: int) -> float:
    """The bucket's level `elapsed` seconds after it held `tokens`."""
    return min(float(burst), tokens + max(elapsed, 0.0) * per_second)


def wait_for_token(level: float, per_second: float) -> float:
    """Seconds until the bucket holds one whole token (0 when it does now)."""
    return 0.0 if level >= 1.0 else (1.0 - level) / per_second


def take(level: float, per_second: float) -> tuple[float, float]:
    """Take one token: (the level afterwards, the wait; 0 when the token was there)."""
    wait = wait_for_token(level, per_second)
    return (level - 1.0 if wait == 0.0 else level), wait
