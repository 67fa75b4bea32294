"""The map summary over the 2,237 fablabs, on both databases: its cells at every zoom are the
exact grid's, it serves only the public catalog by kind, and it follows the catalog's writes
within its allowed age."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog import map_layer
from registry.catalog.assets import AssetService
from registry.catalog.importers import adapter_for, run_import
from registry.catalog.map_layer import MapRequest
from registry.catalog.map_summary import BASE_ZOOM, MapSummaries, build_summary, summarizable
from registry.catalog.search_query import SearchQuery
from registry.catalog.visibility import Audience
from registry.config import Settings
from registry.people import accounts
from tests.sample_data import FABLABS_FILE

WHOLE = SearchQuery(sort="", limit=0)


async def answer(
    engine: AsyncEngine, where: MapRequest, summaries: MapSummaries | None, query=WHOLE
) -> dict:
    return orjson.loads(await map_layer.map_layer(engine, query, where, None, summaries))


async def settled(summaries: MapSummaries) -> None:
    while summaries._task is not None and not summaries._task.done():
        await asyncio.sleep(0.01)


def same_cells(ours: list, theirs: list) -> bool:
    """The same clusters, in any order, positions equal to rounding."""
    if len(ours) != len(theirs):
        return False
    pairs = zip(sorted(map(tuple, ours)), sorted(map(tuple, theirs)), strict=True)
    return all(
        abs(a[0] - b[0]) < 1e-4 and abs(a[1] - b[1]) < 1e-4 and a[2] == b[2] for a, b in pairs
    )


@pytest.fixture
async def fablabs(engine: AsyncEngine, settings: Settings) -> AssetService:
    service = AssetService(engine, settings)
    await run_import(service, adapter_for(FABLABS_FILE, None), FABLABS_FILE)
    return service


async def test_summary_cells_are_the_exact_grid_at_every_zoom(
    engine: AsyncEngine, fablabs: AssetService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(map_layer, "POINT_LIMIT", 10)
    summary = await build_summary(engine)
    exact_whole = await answer(engine, MapRequest(zoom=0), None)
    assert summary.placed(()) == exact_whole["placed"] > 2000
    assert summary.total(()) == exact_whole["total"]
    for zoom in range(BASE_ZOOM + 1):
        exact = await answer(engine, MapRequest(zoom=zoom), None)
        cells = summary.cells((), zoom, None)
        assert sorted(n for *_, n in cells) == sorted(c[2] for c in exact["clusters"]), zoom
        assert same_cells(cells, exact["clusters"]), zoom
    # By kind: all of them are fablabs; another kind has nothing.
    assert summary.placed(("fablab",)) == summary.placed(())
    assert summary.cells(("community-garden",), 3, None) == []


async def test_answers_come_from_the_summary_and_follow_writes(
    engine: AsyncEngine, fablabs: AssetService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(map_layer, "POINT_LIMIT", 10)
    patient = MapSummaries(max_age=3600)
    first = await answer(engine, MapRequest(zoom=2), patient)  # exact, and starts a count
    await settled(patient)
    assert patient.current is not None and first["mode"] == "clusters"
    from_summary = await answer(engine, MapRequest(zoom=2), patient)
    assert same_cells(from_summary["clusters"], first["clusters"])
    assert {k: v for k, v in from_summary.items() if k != "clusters"} == {
        k: v for k, v in first.items() if k != "clusters"
    }

    # Inside a view: the cells whose centre is in it, so every cluster is in it too.
    europe = await answer(engine, MapRequest(zoom=4, view=(-10, 35, 30, 60)), patient)
    assert "placed" not in europe and 100 < europe["shown"] < first["placed"]
    assert all(-10 <= c[1] <= 30 and 35 <= c[0] <= 60 for c in europe["clusters"])

    # A new lab far from any other: a patient summary still answers without it, then counts
    # it; an impatient one (max age 0) answers exactly at once.
    _, token = await accounts.create_group(engine, "Antarctic makers", "antarctic")
    principal = await accounts.authenticate(engine, token)
    lab = {
        "name": "Polar lab",
        "kind": "fablab",
        "location": {"latitude": -77.8, "longitude": 166.7},
    }
    await fablabs.create(principal, lab)
    behind = await answer(engine, MapRequest(zoom=2), patient)
    assert behind["placed"] == first["placed"]
    await settled(patient)
    caught_up = await answer(engine, MapRequest(zoom=2), patient)
    assert caught_up["placed"] == first["placed"] + 1
    assert [-77.8, 166.7, 1] in caught_up["clusters"]

    impatient = MapSummaries(max_age=0)
    impatient.current = await build_summary(engine)
    await fablabs.create(principal, {**lab, "name": "Second polar lab"})
    exact = await answer(engine, MapRequest(zoom=2), impatient)
    assert exact["placed"] == first["placed"] + 2


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery(q="fab", sort="", limit=0),
        SearchQuery(countries=("FR",), sort="", limit=0),
        SearchQuery(bbox=(-10, 35, 30, 60), sort="", limit=0),
        SearchQuery(origin="local", sort="", limit=0),
        SearchQuery(sort="", limit=0, audience=Audience(admin=True)),
    ],
)
def test_only_the_public_catalog_by_kind_is_summarized(query: SearchQuery) -> None:
    assert not summarizable(query)
    assert summarizable(SearchQuery(kinds=("fablab", "cooperative"), sort="", limit=0))
    assert summarizable(WHOLE)
