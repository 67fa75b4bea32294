"""Which index a kind-and-box search reads (EXPLAIN QUERY PLAN on SQLite): the kind's own
entries in the box's latitude band (`ix_assets_kind_map`), not the band of every kind
(`ix_assets_map`, which the map reads), both for the page and for its facets."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog.assets import AssetService
from registry.catalog.importers import adapter_for, run_import
from registry.catalog.search import _picking, _sort_key, filter_conditions
from registry.catalog.search_query import FACETS, parse_query
from registry.config import Settings
from registry.core import db
from tests.sample_data import FABLABS_FILE


async def plan(engine: AsyncEngine, statement: object) -> str:
    sql = str(statement.compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        rows = await conn.execute(text("EXPLAIN QUERY PLAN " + sql))
        return " | ".join(row[3] for row in rows)


def box_statements(params: dict[str, str]) -> tuple[object, object]:
    """The page and the facets statements of a search."""
    query = parse_query(
        params,
        page_size=20,
        max_page_size=100,
        principal=None,
    )
    conditions = filter_conditions(query, "sqlite")
    sort_expr, descending = _sort_key(query, "sqlite")
    page = _picking(query, conditions, sort_expr, descending, None)
    first = select(*FACETS.values()).where(*conditions).limit(10_001).subquery()
    return page, select(*first.c, func.count()).group_by(*first.c)


async def test_a_box_of_one_kind_reads_that_kind_only(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL chooses by its statistics: an empty table is read whole")
    for statement in box_statements({"kind": "fablab", "bbox": "1.17,40.88,3.17,41.88"}):
        found = await plan(engine, statement)
        assert "COVERING INDEX ix_assets_kind_map (moderation=? AND deleted_at=? AND kind=?" in (
            found
        ), found


async def test_a_node_starts_without_analyzing_again(
    engine: AsyncEngine, settings: Settings
) -> None:
    """A full ANALYZE reads every index whole (tens of seconds at a million assets): the node
    runs it at start only when the catalog has no statistics (a restored or copied file) or
    has outgrown them; the import that loaded the catalog has left them."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL gathers statistics on its own")
    await run_import(AssetService(engine, settings), adapter_for(FABLABS_FILE, None), FABLABS_FILE)
    stats = "SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_assets_map'"
    async with engine.begin() as conn:
        assert (await conn.execute(text(stats))).scalar_one().startswith("2237 ")
        await conn.execute(text("UPDATE sqlite_stat1 SET stat = '1200 1' WHERE tbl = 'assets'"))
    await db.ensure_statistics(engine)  # they still describe about as many: kept as they are
    async with engine.begin() as conn:
        assert (await conn.execute(text(stats))).scalar_one() == "1200 1"
        await conn.execute(text("UPDATE sqlite_stat1 SET stat = '600 1' WHERE tbl = 'assets'"))
    await db.ensure_statistics(engine)  # the catalog has grown past twice that: gathered again
    async with engine.begin() as conn:
        assert (await conn.execute(text(stats))).scalar_one().startswith("2237 ")
        await conn.execute(text("DELETE FROM sqlite_stat1"))
    await db.ensure_statistics(engine)  # has none: gathered
    async with engine.connect() as conn:
        assert (await conn.execute(text(stats))).scalar_one().startswith("2237 ")
    for statement in box_statements({"kind": "fablab", "bbox": "1.17,40.88,3.17,41.88"}):
        assert "ix_assets_kind_map (moderation=?" in await plan(engine, statement)


async def test_an_import_leaves_statistics_of_the_catalogs_tables(
    engine: AsyncEngine, settings: Settings
) -> None:
    """On PostgreSQL the ANALYZE after a bulk load is of the catalog's tables only (a plain
    one reads the system catalogs too, most of its time after a backfill)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's statistics are the test above's")
    await run_import(AssetService(engine, settings), adapter_for(FABLABS_FILE, None), FABLABS_FILE)
    await db.analyze(engine)
    async with engine.connect() as conn:
        analyzed = {
            row.relname: row.reltuples
            for row in await conn.execute(
                text(
                    "SELECT s.relname, c.reltuples FROM pg_stat_user_tables s "
                    "JOIN pg_class c ON c.oid = s.relid WHERE s.last_analyze IS NOT NULL"
                )
            )
        }
    assert set(db.CATALOG_TABLES) <= analyzed.keys()
    assert analyzed["assets"] == 2237


async def test_full_text_pending_entries_stay_few(engine: AsyncEngine, settings: Settings) -> None:
    """Every full-text search on PostgreSQL reads the GIN index's whole pending list; the
    index keeps it short (migration 0012: 512 kB, 64 pages), where the default 4 MB let an
    import leave hundreds of pages for each search to read."""
    if engine.dialect.name != "postgresql":
        pytest.skip("FTS5 has no pending list")
    await run_import(AssetService(engine, settings), adapter_for(FABLABS_FILE, None), FABLABS_FILE)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pgstattuple"))
        pending = await conn.execute(
            text("SELECT pending_pages FROM pgstatginindex('ix_asset_search_vector')")
        )
        assert pending.scalar_one() <= 65  # merged as soon as it passes 64 pages


async def test_postgresql_sessions_run_without_jit(engine: AsyncEngine) -> None:
    """Compiling a broad search to machine code cost more than running it (registry.core.db):
    the node's PostgreSQL sessions do without."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    async with engine.connect() as conn:
        assert (await conn.execute(text("SHOW jit"))).scalar_one() == "off"
