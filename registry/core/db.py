"""Database engines: SQLite (WAL) by default, PostgreSQL at scale.

Writes on SQLite start with BEGIN IMMEDIATE so that two writers queue on the lock instead of
failing when a deferred read transaction tries to upgrade. Reads use plain deferred
transactions, so they never wait for a writer (WAL).

A BEGIN IMMEDIATE that finds another process writing waits in short sleeps of its own
(`_begin_immediate`), not in SQLite's busy handler: that one sleeps 1, 2, 5, 10 ... then
100 ms at a time, so a web process and a worker process sharing one file (the deployed
node) each sat idle for tens of milliseconds after the other's transaction had ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.util import await_

from federation.transactions import WRITE_OPTION, read, write

__all__ = [
    "analyze",
    "catalog_size",
    "create_engine",
    "distance_km",
    "ensure_statistics",
    "is_sqlite",
    "read",
    "write",
]


def async_url(url: str) -> str:
    """Map plain sqlite/postgresql URLs onto the async drivers we ship."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"unsupported database backend {backend!r}")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine_or_conn: AsyncEngine | AsyncConnection) -> bool:
    return engine_or_conn.dialect.name == "sqlite"


def distance_km(
    lat1: float | None, lon1: float | None, lat2: float | None, lon2: float | None
) -> float | None:
    """Great-circle distance (haversine); registered as an SQL function on SQLite."""
    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        return None
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


# PostgreSQL compiles a statement the planner costs above `jit_above_cost` to machine code
# first: 25-35 ms for a broad full-text search of a million-asset catalog, which ran in
# 450 ms without it. The node's statements are short, or stream rows (exports), so nothing
# here gains what the compiling costs.
POSTGRESQL_SESSION = {"jit": "off"}


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    url = async_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _prepare_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        connect_args={"server_settings": POSTGRESQL_SESSION},
    )


def _prepare_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's begin event decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()
        dbapi_connection.create_function("distance_km", 4, distance_km, deterministic=True)

    @event.listens_for(sync_engine, "begin")
    def on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        if conn.get_execution_options().get(WRITE_OPTION):
            _begin_immediate(conn)
        else:
            conn.exec_driver_sql("BEGIN")


# Pages the write-ahead log may hold before a commit copies them into the database (SQLite's
# default is 1,000). A batch of copies inserts at random places in the wide indexes of
# `assets` (map, facets, names, positions), dirtying a page of each per row: at 30,000 assets
# a batch of 100 wrote ~500 pages, and a checkpoint every second commit wrote the same pages
# again and again. With 4,000 (16 MB of log) a page changed by several commits is copied
# once: storing copies at 30,000 assets took 72-76 ms a batch of 100 against 88.
WAL_CHECKPOINT_PAGES = 4000
BUSY_TIMEOUT_MS = 30_000  # how long a statement waits for another process's lock
WRITE_LOCK_POLL = 0.001  # seconds between two tries for the write lock


def _begin_immediate(conn) -> None:  # type: ignore[no-untyped-def]
    """BEGIN IMMEDIATE, trying again every millisecond (the event loop runs meanwhile) while
    another process holds the write lock, for at most BUSY_TIMEOUT_MS. The last try goes
    through SQLAlchemy, so that a failure is its OperationalError, as any other statement's."""
    cursor = conn.connection.dbapi_connection.cursor()
    busy = conn.dialect.dbapi.OperationalError
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    cursor.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except busy as exc:
                if "locked" not in str(exc):
                    break
            await_(asyncio.sleep(WRITE_LOCK_POLL))
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()


@contextlib.asynccontextmanager
async def planned_for_values(conn: AsyncConnection) -> AsyncIterator[None]:
    """On PostgreSQL, plan the statements run inside for their own values and the tables as
    they are now. A batch's lookup in a table that grows fast (a new mirror's backfill, a
    first import) would otherwise reuse the generic plan its prepared statement got while
    the table was small: a hundred IRIs looked up by scanning the whole table, a little
    longer each batch, instead of reading the unique index (docs/performance.md, seventeenth
    pass). Only the lookups: the foreign-key checks of the rows written after them keep
    their cached plans, which would cost more to make again for every row."""
    if is_sqlite(conn):
        yield
        return
    await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    yield  # on an error the transaction is rolled back, and the setting with it
    await conn.exec_driver_sql("SET LOCAL plan_cache_mode TO DEFAULT")


# The tables a bulk load (an import, a backfill) fills: their statistics are refreshed after it.
CATALOG_TABLES = ("assets", "asset_documents", "asset_search", "asset_tags")


async def analyze(engine: AsyncEngine) -> None:
    """Refresh the planner's statistics of the catalog's tables (after bulk loads: without
    them SQLite picks the broad moderation index over the selective position index and a
    bbox query scans). On PostgreSQL a plain ANALYZE reads the system catalogs too: 220 ms
    after a 10,000-asset backfill, against 130 for these tables alone. SQLite's ANALYZE
    reads only the database's own tables (40 ms there), and takes one table a statement."""
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql(f"ANALYZE {', '.join(CATALOG_TABLES)}")
        else:
            await conn.exec_driver_sql("ANALYZE")
        await conn.commit()


async def catalog_size(conn: AsyncConnection) -> int:
    """About how many assets the catalog holds: the newest id (a count reads a large table)."""
    return (await conn.exec_driver_sql("SELECT max(id) FROM assets")).scalar() or 0


async def ensure_statistics(engine: AsyncEngine) -> None:
    """ANALYZE a SQLite database whose catalog has no statistics (a restored or copied file)
    or has grown to over twice what they describe (written a row at a time since). A full
    ANALYZE reads every index whole, tens of seconds at a million assets, so a node whose
    statistics still hold starts without it; imports and backfills refresh them as they load."""
    async with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            return
        has_table = "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
        described = "SELECT stat FROM sqlite_stat1 WHERE tbl = 'assets' AND idx IS NOT NULL"
        if (await conn.exec_driver_sql(has_table)).first():
            stat = (await conn.exec_driver_sql(described)).scalar()
            if stat and await catalog_size(conn) <= 2 * int(stat.split()[0]) + 1000:
                return
    await analyze(engine)
