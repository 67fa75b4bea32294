"""The `deliveries` table as a durable queue: claim with a lease, record in batches.

A claim stamps `locked_by`/`locked_until` on due rows in one UPDATE. On PostgreSQL the
candidates are locked with SKIP LOCKED, so any number of worker processes claim at once
without taking the same row; on SQLite the write transaction holds the only write lock. A
worker that dies leaves its rows to expire; the next claim after the lease takes them.

Per-host circuit breakers live in `delivery_hosts`; results are folded into them with
arithmetic in SQL, so that workers recording at the same time add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import DateTime, bindparam, case, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from federation import leases
from federation.tables import deliveries, delivery_hosts, outbox

Kind = Literal["done", "retry", "dead", "deferred", "released"]
_TIME = DateTime(timezone=True)
_STATE = {"done": "done", "dead": "dead", "retry": "pending"}


def utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Job:
    id: int
    inbox: str
    host: str
    attempts: int
    created_at: datetime
    lease_until: datetime
    host_failures: int  # the host's consecutive failures when claimed
    body: bytes  # exactly as stored: what is signed is what is sent


@dataclass(frozen=True)
class Outcome:
    job: Job
    kind: Kind  # deferred: circuit open, no request; released: not sent, lease handed back
    at: datetime
    next_attempt_at: datetime | None = None
    status: int | None = None
    error: str | None = None

    @property
    def attempted(self) -> bool:
        return self.kind in ("done", "retry", "dead")


@dataclass(frozen=True)
class Breaker:
    threshold: int
    cooldown: timedelta
    max_age: timedelta  # deliveries to an open host older than this die without a request


_d = deliveries
_UNLOCKED = or_(_d.c.locked_until.is_(None), _d.c.locked_until < bindparam("now", type_=_TIME))
_MINE = (
    (_d.c.id == bindparam("b_id"))
    & (_d.c.locked_by == bindparam("b_worker"))
    & (_d.c.state == "pending")
)
_NEXT = func.coalesce(bindparam("b_next", type_=_TIME), _d.c.next_attempt_at)
_RESULT = (
    update(_d)
    .where(_MINE)
    .values(
        state=bindparam("b_state"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=_NEXT,
        last_status=bindparam("b_status"),
        last_error=bindparam("b_error"),
        done_at=bindparam("b_done", type_=_TIME),
        locked_by=None,
        locked_until=None,
    )
)
_UNLOCK = update(_d).where(_MINE).values(next_attempt_at=_NEXT, locked_by=None, locked_until=None)


def claim_grace(lease: timedelta) -> timedelta:
    """How long after its end another worker's lease is still respected: half a lease, so
    that a send which ended inside the lease gets recorded, not sent again."""
    return lease / 2


async def claim(
    conn: AsyncConnection,
    *,
    worker_id: str,
    limit: int,
    lease: timedelta,
    now: datetime,
    breaker: Breaker,
) -> list[Job]:
    """Take up to `limit` due deliveries that no live lease holds, skipping open hosts."""
    skip_locked = conn.dialect.name != "sqlite"
    open_hosts = await _defer_open_hosts(conn, now, breaker, skip_locked)
    lease_until = now + lease
    claimed = await leases.claim(
        conn,
        _d,
        due_column="next_attempt_at",
        worker_id=worker_id,
        limit=limit,
        lease=lease,
        now=now,
        where=[_d.c.host.not_in(open_hosts)] if open_hosts else [],
        returning=[_d.c.id, _d.c.outbox_id, _d.c.inbox, _d.c.host, _d.c.attempts, _d.c.created_at],
        grace=claim_grace(lease),
    )
    if not claimed:
        return []
    bodies = dict(
        (
            await conn.execute(
                select(outbox.c.id, outbox.c.body).where(
                    outbox.c.id.in_({row.outbox_id for row in claimed})
                )
            )
        ).all()
    )
    failures = dict(
        (
            await conn.execute(
                select(delivery_hosts.c.host, delivery_hosts.c.consecutive_failures).where(
                    delivery_hosts.c.host.in_({row.host for row in claimed})
                )
            )
        ).all()
    )
    return [
        Job(
            row.id,
            row.inbox,
            row.host,
            row.attempts,
            utc(row.created_at),
            lease_until,
            failures.get(row.host, 0),
            bodies[row.outbox_id].encode("utf-8"),
        )
        for row in sorted(claimed, key=lambda row: row.id)
    ]


async def record(
    conn: AsyncConnection,
    outcomes: list[Outcome],
    *,
    worker_id: str,
    now: datetime,
    breaker: Breaker,
) -> None:
    """Write results (only onto rows this worker still holds) and fold them into breakers."""
    # Sorted: two workers recording at once on PostgreSQL take row locks in one order.
    ordered = sorted(outcomes, key=lambda o: o.job.id)
    sent = [
        {
            "b_id": o.job.id,
            "b_worker": worker_id,
            "b_state": _STATE[o.kind],
            "b_attempts": o.job.attempts + 1,
            "b_next": o.next_attempt_at,
            "b_status": o.status,
            "b_error": o.error,
            "b_done": o.at if o.kind in ("done", "dead") else None,
        }
        for o in ordered
        if o.attempted
    ]
    unsent = [
        {"b_id": o.job.id, "b_worker": worker_id, "b_next": o.next_attempt_at}
        for o in ordered
        if not o.attempted
    ]
    if sent:  # executemany: one round trip for the batch
        await conn.execute(_RESULT, sent)
    if unsent:
        await conn.execute(_UNLOCK, unsent)
    await _record_hosts(conn, outcomes, now, breaker)


async def next_due(
    conn: AsyncConnection, now: datetime, lease: timedelta = timedelta(0)
) -> datetime | None:
    """When the earliest pending, unclaimed delivery falls due (one row, in index order);
    rows whose lease ended less than the claim's grace ago still count as held."""
    due = (
        await conn.execute(
            select(_d.c.next_attempt_at)
            .where(_d.c.state == "pending", _UNLOCKED)
            .order_by(_d.c.next_attempt_at)
            .limit(1),
            {"now": now - claim_grace(lease)},
        )
    ).scalar()
    return None if due is None else utc(due)


async def _defer_open_hosts(
    conn: AsyncConnection, now: datetime, breaker: Breaker, skip_locked: bool
) -> list[str]:
    """Move the due deliveries of hosts whose circuit is open to when it closes (those queued
    longer than `max_age` die instead); returns those hosts."""
    hosts = (
        await conn.execute(
            select(delivery_hosts.c.host, delivery_hosts.c.open_until)
            .where(delivery_hosts.c.open_until > now)
            .order_by(delivery_hosts.c.host)
        )
    ).all()
    for host, until in hosts:
        due = select(_d.c.id).where(
            _d.c.host == host, _d.c.state == "pending", _d.c.next_attempt_at <= now, _UNLOCKED
        )
        if skip_locked:
            due = due.with_for_update(skip_locked=True)
        too_old = due.where(_d.c.created_at <= now - breaker.max_age)
        await conn.execute(
            update(_d)
            .where(_d.c.id.in_(too_old))
            .values(
                state="dead",
                done_at=now,
                last_error=f"host unreachable (circuit open) after {breaker.max_age}",
            ),
            {"now": now},
        )
        await conn.execute(
            update(_d).where(_d.c.id.in_(due)).values(next_attempt_at=until), {"now": now}
        )
    return [host for host, _ in hosts]


async def _record_hosts(
    conn: AsyncConnection, outcomes: list[Outcome], now: datetime, breaker: Breaker
) -> None:
    tallies: dict[str, dict[str, Any]] = {}
    for o in sorted((o for o in outcomes if o.attempted), key=lambda o: o.at):
        tally = tallies.setdefault(
            o.job.host,
            {
                "host": o.job.host,
                "consecutive_failures": 0,
                "last_success_at": None,
                "last_failure_at": None,
                "last_error": None,
                "open_until": None,
            },
        )
        if o.kind == "done":  # only the failures after the last success still count
            tally.update(consecutive_failures=0, last_success_at=o.at)
        else:
            tally["consecutive_failures"] += 1
            tally.update(last_failure_at=o.at, last_error=o.error)
    if not tallies:
        return
    open_at = now + breaker.cooldown
    rows = [tallies[host] for host in sorted(tallies)]
    for row in rows:
        if row["consecutive_failures"] >= breaker.threshold:
            row["open_until"] = open_at
    table = delivery_hosts
    insert = (sqlite if conn.dialect.name == "sqlite" else postgresql).insert(table)
    new = insert.excluded
    failures = case(
        (new.last_success_at.is_not(None), new.consecutive_failures),
        else_=table.c.consecutive_failures + new.consecutive_failures,
    )
    await conn.execute(
        insert.on_conflict_do_update(
            index_elements=[table.c.host],
            set_={
                "consecutive_failures": failures,
                "open_until": case(
                    (failures >= breaker.threshold, literal(open_at, _TIME)), else_=None
                ),
                "last_success_at": func.coalesce(new.last_success_at, table.c.last_success_at),
                "last_failure_at": func.coalesce(new.last_failure_at, table.c.last_failure_at),
                "last_error": func.coalesce(new.last_error, table.c.last_error),
            },
        ),
        rows,
    )
