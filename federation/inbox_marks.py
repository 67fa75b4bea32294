"""What becomes of an inbox row once its activity is settled: done, ignored, failed, or due
again later (with a backoff), always in the transaction that applied it or decided not to;
and, after `keep`, forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, Text, bindparam, delete, func, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation.backoff import backoff
from federation.leases import still_mine
from federation.tables import inbox_items
from federation.transactions import write

if TYPE_CHECKING:
    from federation.dispatch import DispatchSettings

RETRY = "retry"
# What an applied, ignored or failed activity's body becomes: the row stays (its unique id
# makes a replay a no-op) until `keep` has passed, but its content is not stored any longer.
PRUNED = "{}"

# Built once: the done-mark runs for every applied activity. A handler that returns nothing
# keeps the reason an earlier attempt left in `result`.
MARK_DONE = (
    update(inbox_items)
    .where(inbox_items.c.id == bindparam("item_id"))
    .values(
        state="done",
        body=PRUNED,  # applied: only the id is kept (dedupe), not what an attacker sent
        processed_at=bindparam("done_at", type_=inbox_items.c.processed_at.type),
        attempts=bindparam("tries", type_=Integer()),
        result=func.coalesce(bindparam("outcome", type_=Text()), inbox_items.c.result),
        locked_by=None,
        locked_until=None,
    )
)


def done_mark(row: Any, result: str | None, at: datetime) -> dict[str, Any]:
    """MARK_DONE's parameters for an applied activity."""
    return {
        "item_id": row.id,
        "done_at": at,
        "tries": row.attempts + 1,
        "outcome": result[:2000] if result else None,
    }


async def record_outcome(
    conn: AsyncConnection,
    row: Any,
    state: str,
    reason: str,
    worker_id: str,
    settings: DispatchSettings,
) -> None:
    """Record an activity that was not applied: ignored, failed, or due again later."""
    attempts = row.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "locked_by": None, "locked_until": None}
    if state == RETRY and attempts < settings.max_attempts:
        delay = backoff(attempts, base=settings.retry_base, cap=settings.retry_cap)
        values.update(result=reason[:2000], available_at=datetime.now(UTC) + delay)
    else:
        if state == RETRY:
            state, reason = "failed", f"gave up after {attempts} attempts: {reason}"
        values.update(
            state=state, result=reason[:2000], processed_at=datetime.now(UTC), body=PRUNED
        )
    await conn.execute(
        update(inbox_items).where(still_mine(inbox_items, row.id, worker_id)).values(**values)
    )


async def purge_finished(engine: AsyncEngine, keep: timedelta, now: datetime) -> int:
    """Forget finished activities older than `keep` (their ids no longer dedupe: by then
    their signatures are long outside the clock-skew window)."""
    async with write(engine) as conn:
        result = await conn.execute(
            delete(inbox_items).where(
                inbox_items.c.state.in_(("done", "ignored", "failed")),
                inbox_items.c.processed_at < now - keep,
            )
        )
    return result.rowcount or 0
