"""INSERT … ON CONFLICT on either database: the idempotent writes that federation relies on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def _insert(conn: AsyncConnection, table: Table) -> Any:
    return (sqlite if conn.dialect.name == "sqlite" else postgresql).insert(table)


async def upsert(
    conn: AsyncConnection, table: Table, key: dict[str, Any], values: dict[str, Any]
) -> None:
    """Insert the row, or update `values` on the row that has `key`."""
    statement = _insert(conn, table).values(**key, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=list(key), set_=values))


async def insert_new(
    conn: AsyncConnection, table: Table, values: dict[str, Any], unique: list[str]
) -> bool:
    """Insert the row unless one with the same `unique` columns exists; True if inserted."""
    statement = _insert(conn, table).values(**values).on_conflict_do_nothing(index_elements=unique)
    result = await conn.execute(statement)
    return bool(result.rowcount)
