"""Claiming work from a queue table with leases, the same way on SQLite and PostgreSQL.

A claim stamps rows with the worker's id and a lease end in one UPDATE. On PostgreSQL the
candidate rows are locked with SKIP LOCKED, so any number of worker processes can claim at
once without taking the same row; on SQLite the write transaction holds the only write lock.
A worker that dies leaves its rows to expire; the next claim after the lease takes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection


async def claim(
    conn: AsyncConnection,
    table: Table,
    *,
    due_column: str,
    worker_id: str,
    limit: int,
    lease: timedelta,
    now: datetime,
    where: Sequence[ColumnElement[bool]] = (),
    returning: Sequence[ColumnElement[Any]] | None = None,
    grace: timedelta = timedelta(0),
) -> list[Any]:
    """Take up to `limit` pending rows that are due, match `where` and are not held by a
    live lease; returns the `returning` columns (all by default) of the rows taken.

    A lease is taken over only `grace` after it ends: its holder may finish work just inside
    the lease and record the result a moment later (results are written in batches, and a
    busy database makes that moment long), and a row taken over before then is done twice."""
    due = table.c[due_column]
    candidates = (
        select(table.c.id)
        .where(
            table.c.state == "pending",
            due <= now,
            or_(table.c.locked_until.is_(None), table.c.locked_until < now - grace),
            *where,
        )
        .order_by(due, table.c.id)
        .limit(limit)
    )
    if conn.dialect.name != "sqlite":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(table)
        .where(table.c.id.in_(candidates.scalar_subquery()))
        .values(locked_by=worker_id, locked_until=now + lease)
        .returning(*(table.c if returning is None else returning))
    )
    return list(await conn.execute(statement))


def still_mine(table: Table, row_id: int, worker_id: str) -> Any:
    """A condition for the UPDATE that records a result: the row is still this worker's."""
    return (table.c.id == row_id) & (table.c.locked_by == worker_id) & (table.c.state == "pending")
