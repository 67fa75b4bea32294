"""Which index a kind-and-box search reads (EXPLAIN QUERY PLAN on SQLite): the kind's own
entries in the box's latitude band (`ix_assets_kind_map`), not the band of every kind
(`ix_assets_map`, which the map reads), both for the page and for its facets."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog.search import _picking, _sort_key, filter_conditions
from registry.catalog.search_query import FACETS, parse_query


async def plan(engine: AsyncEngine, statement: object) -> str:
    sql = str(statement.compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        rows = await conn.execute(text("EXPLAIN QUERY PLAN " + sql))
        return " | ".join(row[3] for row in rows)


async def test_a_box_of_one_kind_reads_that_kind_only(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL chooses by its statistics: an empty table is read whole")
    query = parse_query(
        {"kind": "fablab", "bbox": "1.17,40.88,3.17,41.88"},
        page_size=20,
        max_page_size=100,
        principal=None,
    )
    conditions = filter_conditions(query, "sqlite")
    sort_expr, descending = _sort_key(query, "sqlite")
    page = _picking(query, conditions, sort_expr, descending, None)
    first = select(*FACETS.values()).where(*conditions).limit(10_001).subquery()
    facets = select(*first.c, func.count()).group_by(*first.c)
    for statement in (page, facets):
        found = await plan(engine, statement)
        assert "COVERING INDEX ix_assets_kind_map (moderation=? AND deleted_at=? AND kind=?" in (
            found
        ), found
