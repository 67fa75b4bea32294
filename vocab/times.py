"""Points in time as every part of the node writes them: UTC, to the second, with `Z`.

One implementation for documents, signatures, proofs, the API, logs and pages; SQLite hands
back naive datetimes, and the node only ever stores UTC, so a naive value is taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    """The same instant with an explicit UTC zone (naive values are UTC already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, in UTC, to the second (what is stored and what peers see)."""
    return datetime.now(UTC).replace(microsecond=0)


def iso_utc(when: datetime | None = None) -> str:
    """ISO 8601 in UTC with `Z`, to the second (`2026-12-02T07:15:00Z`); default now."""
    when = as_utc(when) if when is not None else datetime.now(UTC)
    # isoformat runs in C, several times faster than strftime (every document has two)
    return when.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def iso(value: datetime | None) -> str | None:
    """`iso_utc`, or None for no time (an optional field in a JSON answer)."""
    return None if value is None else iso_utc(value)
