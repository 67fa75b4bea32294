"""Near searches by distance, picked from a smaller circle first when it holds the page
(registry.catalog.search.NEAR_RINGS), come in exactly the order of one statement over the
whole circle, page after page, by cursor and by numbered page, over the fablabs."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog.assets import AssetService
from registry.catalog.importers import adapter_for, run_import
from registry.catalog.search import distance_expression, search
from registry.catalog.search_query import Near, SearchQuery
from registry.config import Settings
from registry.core.schema import assets
from tests.sample_data import FABLABS_FILE
from tests.search_orders import ids_by_cursor, ordered_ids

# Busy places (the quarter circle holds a page) and sparse ones (it does not).
CENTRES = [
    Near(45.4642, 9.19, 100),  # Milan: 25 fablabs, 10 within 25 km
    Near(-23.55, -46.63, 100),  # São Paulo: 49, 30 within 25 km
    Near(51.5074, -0.1278, 200),  # London: 14, 2 within 50 km
    Near(52.52, 13.405, 400),  # Berlin: 58, 7 within 100 km
    Near(40.7128, -74.006, 400),  # New York: 37, 8 within 100 km
]


async def whole_circle(engine: AsyncEngine, near: Near) -> list[int]:
    distance = distance_expression(engine.dialect.name, near)
    query = SearchQuery(near=near, sort="distance")
    return await ordered_ids(engine, query, distance.asc(), assets.c.id.asc())


async def test_nearest_pages_are_the_whole_circle_order(
    engine: AsyncEngine, settings: Settings
) -> None:
    await run_import(AssetService(engine, settings), adapter_for(FABLABS_FILE, None), FABLABS_FILE)
    picks: list[int] = []

    def count_picks(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().startswith("SELECT assets.id,") and "LIMIT" in statement:
            picks.append(1)

    event.listen(engine.sync_engine, "before_cursor_execute", count_picks)
    statements_per_first_page = []
    for near in CENTRES:
        expected = await whole_circle(engine, near)
        assert len(expected) > 12, near
        query = SearchQuery(near=near, sort="distance", limit=5, facets=False)
        picks.clear()
        await search(engine, query)
        statements_per_first_page.append(len(picks))
        assert await ids_by_cursor(engine, query) == expected, near
        numbered = await search(
            engine, SearchQuery(near=near, sort="distance", limit=4, offset=8, facets=False)
        )
        assert [item.id for item in numbered.items] == expected[8:12], near
    event.remove(engine.sync_engine, "before_cursor_execute", count_picks)
    # Both ways were taken: a page from the quarter circle alone, and one from the whole.
    assert 1 in statements_per_first_page and 2 in statements_per_first_page
