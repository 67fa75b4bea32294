"""A relevance search's page and facets are the same whether the matches are read once for
both (PostgreSQL, registry.catalog.facets.ranked_page_and_facets) or once each: over the
fablabs, narrow and broad queries, numbered pages, and past the count limit."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog import fulltext
from registry.catalog.assets import AssetService
from registry.catalog.facets import FacetCache, facet_counts
from registry.catalog.importers import adapter_for, run_import
from registry.catalog.search import filter_conditions, search
from registry.catalog.search_query import SearchQuery
from registry.config import Settings
from registry.core import db
from registry.core.schema import assets
from tests.sample_data import FABLABS_FILE
from tests.search_orders import ordered_ids

QUERIES = ["fab", "lab barcelona", "makerspace", "centro", "zzzz", "!!"]


async def expected(engine: AsyncEngine, q: str, limit: int) -> tuple[list[int], tuple]:
    query = SearchQuery(q=q, sort="relevance")
    score = fulltext.score(engine.dialect.name, fulltext.query_words(q))
    ids = await ordered_ids(engine, query, score.desc(), assets.c.id.desc())
    async with db.read(engine) as conn:
        conditions = filter_conditions(query, engine.dialect.name)
        return ids, await facet_counts(conn, conditions, limit)


async def test_one_read_gives_the_page_and_facets_of_two(
    engine: AsyncEngine, settings: Settings
) -> None:
    await run_import(AssetService(engine, settings), adapter_for(FABLABS_FILE, None), FABLABS_FILE)
    text_reads: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "to_tsquery" in statement or "MATCH" in statement:
            text_reads.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    reads_per_search = {}
    for limit in (50, 10_000):
        for q in QUERIES:
            ids, (facets, exact) = await expected(engine, q, limit)
            for offset in (0, 40):
                text_reads.clear()
                query = SearchQuery(q=q, sort="relevance", offset=offset)
                page = await search(engine, query, FacetCache(), count_limit=limit)
                reads_per_search[(limit, q, offset)] = len(text_reads)
                assert [item.id for item in page.items] == ids[offset : offset + 20], (q, limit)
                assert page.facets == facets and page.total_exact is exact, (q, limit)
                assert (page.next_cursor is not None) == (len(ids) > offset + 20), (q, limit)
                if exact:
                    assert page.total == len(ids)
    event.remove(engine.sync_engine, "before_cursor_execute", count)
    if engine.dialect.name == "postgresql":
        assert reads_per_search[(10_000, "fab", 0)] == 1  # one read of the matches
        assert reads_per_search[(50, "fab", 0)] == 2  # past the limit: the page ranked apart
