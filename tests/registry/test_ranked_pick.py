"""Relevance pages picked one score at a time (SQLite) come in exactly the order of the
one-statement ranking, page after page, by cursor and by numbered page, over the fablabs."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog import fulltext
from registry.catalog.assets import AssetService
from registry.catalog.importers import adapter_for, run_import
from registry.catalog.search import search
from registry.catalog.search_query import SearchQuery
from registry.config import Settings
from registry.core.schema import assets
from tests.sample_data import FABLABS_FILE
from tests.search_orders import ids_by_cursor, ordered_ids

QUERIES = ["fab", "lab barcelona", "makerspace", "fab lab de", "zzzz", "centro"]


async def ranked_in_one_statement(engine: AsyncEngine, q: str) -> list[int]:
    score = fulltext.score(engine.dialect.name, fulltext.query_words(q))
    return await ordered_ids(
        engine, SearchQuery(q=q, sort="relevance"), score.desc(), assets.c.id.desc()
    )


async def test_pages_by_score_are_the_one_statement_ranking(
    engine: AsyncEngine, settings: Settings
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL ranks in one statement (registry.catalog.ranked_pick)")
    await run_import(AssetService(engine, settings), adapter_for(FABLABS_FILE, None), FABLABS_FILE)
    for q in QUERIES:
        expected = await ranked_in_one_statement(engine, q)
        query = SearchQuery(q=q, sort="relevance", limit=97, facets=False)
        assert await ids_by_cursor(engine, query) == expected, q
        numbered = await search(
            engine, SearchQuery(q=q, sort="relevance", limit=20, offset=40, facets=False)
        )
        assert [item.id for item in numbered.items] == expected[40:60], q
    assert len(await ranked_in_one_statement(engine, "fab")) > 1000
