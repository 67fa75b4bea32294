"""A search stops counting at search.count_limit: over the 2,237 fablabs with a limit of 500,
a broad search says it has more than 500 results (facets at least), every output says so in
its own terms, and a narrow search is still counted exactly."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog.assets import AssetService
from registry.catalog.importers import adapter_for, run_import
from registry.config import Settings
from tests.conftest import BASE_URL
from tests.sample_data import FABLABS_FILE

LIMIT = 500


@pytest.fixture
async def limited(
    engine: AsyncEngine, settings: Settings, make_app: Callable[..., object]
) -> httpx.AsyncClient:
    await run_import(AssetService(engine, settings), adapter_for(FABLABS_FILE, None), FABLABS_FILE)
    app = make_app(search={"count_limit": LIMIT})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)  # type: ignore[arg-type]


async def test_a_broad_search_stops_counting_at_the_limit(limited: httpx.AsyncClient) -> None:
    async with limited as client:
        everything = (await client.get("/api/assets")).json()
        assert everything["total"] == LIMIT and everything["total_exact"] is False
        kinds = everything["facets"]["kind"]
        assert sum(kinds.values()) == LIMIT + 1  # the rows read: each count is a lower bound
        assert everything["next"]  # paging goes on past the limit

        narrow = (await client.get("/api/assets", params={"country": "FR"})).json()
        assert narrow["total_exact"] is True and 0 < narrow["total"] <= LIMIT
        assert sum(narrow["facets"]["country"].values()) == narrow["total"]

        ogc = (await client.get("/ogc/collections/all/items", params={"limit": 10})).json()
        assert "numberMatched" not in ogc and ogc["numberReturned"] == 10

        page = (await client.get("/search")).text
        assert f"{LIMIT:,}+" in page

        dcat = await client.get("/dcat/catalog.jsonld")
        assert dcat.status_code == 200 and "totalItems" not in dcat.text


async def test_without_a_reached_limit_counts_are_exact(limited: httpx.AsyncClient) -> None:
    async with limited as client:
        fab = (await client.get("/api/assets", params={"q": "barcelona"})).json()
        assert fab["total_exact"] is True
        assert 0 < fab["total"] == sum(fab["facets"]["kind"].values()) <= LIMIT
