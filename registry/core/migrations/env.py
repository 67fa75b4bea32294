"""Alembic environment: runs migrations on the async engine the registry uses."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.core.db import create_engine
from registry.core.tables import all_metadata

config = context.config


def _managed(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """Leave the full-text index to the migrations that made it: FTS5's shadow tables and the
    generated tsvector column are not in the metadata, and must not be dropped."""
    if type_ == "table" and name and name.startswith("asset_fts"):
        return False
    return not (type_ == "column" and name == "search_vector")


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=all_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_managed,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            assert isinstance(connection, AsyncConnection)
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run them on a database")
asyncio.run(_run_async(url))
