"""Many rows of one table inserted at once: PostgreSQL's COPY where it pays, one INSERT with
many parameter sets elsewhere.

A backfill stores each page of copies as four inserts (assets, documents, search text, tags).
On PostgreSQL a COPY sends the rows in asyncpg's binary format: no statement of a hundred
VALUES rows to build in Python, then parse and plan on the server. Storing 10,000 copies in
transactions of 100 took ~72 -> ~59 µs of the node's CPU and ~200 -> ~180 µs of the database
server's a copy (docs/performance.md, sixteenth pass). A COPY returns nothing, so the ids of
new rows come from their sequence first (`next_ids`).
"""

from __future__ import annotations

import operator
from typing import Any

import asyncpg
from sqlalchemy import Table, insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

# Below this many rows a COPY's extra round trips cost more than the INSERT it replaces:
# one copy per transaction took 2.99 ms with COPY against 2.87 with INSERT; ten, 434 µs a
# copy against 461.
COPY_MIN_ROWS = 10


def copies(conn: AsyncConnection, count: int) -> bool:
    """Whether `count` rows go in by COPY on this connection."""
    return conn.dialect.name == "postgresql" and count >= COPY_MIN_ROWS


async def next_ids(conn: AsyncConnection, table: Table, count: int) -> list[int]:
    """`count` new values of the sequence behind `table.id` (PostgreSQL), in order."""
    taken = await conn.execute(
        text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": count},
    )
    return list(taken.scalars())


async def insert_rows(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table`, in the caller's transaction."""
    if not rows:
        return
    driver = (
        (await conn.get_raw_connection()).driver_connection if copies(conn, len(rows)) else None
    )
    if driver is None or not driver.is_in_transaction():
        # Too few rows or not PostgreSQL; or the driver has not yet begun the caller's
        # transaction (it does at the first statement), and a COPY sent now would run
        # outside it: the INSERT goes instead, and begins it.
        await conn.execute(insert(table), rows)
        return
    columns = list(rows[0])
    # Values as SQLAlchemy would bind them (the columns' own types and decorators); most
    # columns bind as they are, and a row's values are then picked in C.
    bound = [
        (name, process)
        for name in columns
        if (process := table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect))
    ]
    if bound:
        rows = [{**row, **{name: process(row[name]) for name, process in bound}} for row in rows]
    pick = operator.itemgetter(*columns)
    records = [pick(row) for row in rows]
    if len(columns) == 1:  # itemgetter of one name gives the value, not a tuple
        records = [(value,) for value in records]
    try:
        await driver.copy_records_to_table(table.name, records=records, columns=columns)
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # asyncpg's own errors, raised as SQLAlchemy raises the INSERT's.
        statement = f"COPY {table.name} ({', '.join(columns)})"
        integrity = isinstance(exc, asyncpg.IntegrityConstraintViolationError)
        raise (IntegrityError if integrity else DBAPIError)(statement, None, exc) from exc
