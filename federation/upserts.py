"""INSERT … ON CONFLICT on either database: the idempotent writes that federation relies on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table
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


async def upsert_rows(
    conn: AsyncConnection,
    table: Table,
    rows: list[dict[str, Any]],
    key: list[str],
    update: list[str],
    *,
    returning: ColumnElement[Any],
    only_where: ColumnElement[bool] | None = None,
) -> list[Any]:
    """Insert the rows in one statement; a row whose `key` exists gets the new `update`
    columns (only where `only_where` holds of the existing row). Returns the `returning`
    column of the rows inserted or updated. The rows' keys must be distinct (PostgreSQL
    refuses to update one row twice)."""
    if not rows:
        return []
    statement = _insert(conn, table)
    statement = statement.on_conflict_do_update(
        index_elements=key,
        set_={name: statement.excluded[name] for name in update},
        where=only_where,
    )
    # Executed with many parameter sets, not `.values(rows)`: SQLAlchemy still sends one
    # INSERT … VALUES (…), (…) ("insertmanyvalues"), but compiles the statement once and
    # caches it, where a VALUES list of each new length was compiled anew (a tenth of a busy
    # inbox's CPU).
    return [row[0] for row in await conn.execute(statement.returning(returning), rows)]


async def insert_new_rows(
    conn: AsyncConnection, table: Table, rows: list[dict[str, Any]], unique: str
) -> set[Any]:
    """Insert the rows in one statement, skipping any whose `unique` column exists already;
    returns the `unique` values inserted. Every row has the same columns."""
    if not rows:
        return set()
    statement = (
        _insert(conn, table)
        .on_conflict_do_nothing(index_elements=[unique])
        .returning(table.c[unique])
    )
    return {row[0] for row in await conn.execute(statement, rows)}  # one INSERT, as above
