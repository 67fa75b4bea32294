"""GET /api/map over the 2,237 fablabs, on both databases: every placed result as a point,
clusters past the point limit, the fitted view, and bad parameters as problems."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog import map_layer
from registry.catalog.assets import AssetService
from registry.catalog.importers import adapter_for, run_import
from registry.config import Settings
from tests.registry.test_import_and_search import all_pages
from tests.sample_data import FABLABS_FILE, fablab_records

FABLABS = FABLABS_FILE


def placed_in_source() -> int:
    records = fablab_records()
    return sum(
        1
        for r in records
        if (r.get("facility") or {}).get("name", "").strip()
        and (r.get("geocoding") or {}).get("latitude") is not None
    )


async def test_map_data_over_the_fablabs(
    engine: AsyncEngine,
    settings: Settings,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await run_import(AssetService(engine, settings), adapter_for(FABLABS, None), FABLABS)

    # Everything: every placed lab, each as a point with its name and page.
    everything = (await client.get("/api/map")).json()
    assert everything["placed"] == placed_in_source()
    assert everything["mode"] == "points"
    assert len(everything["points"]) == everything["placed"] < everything["total"]
    lat, lon, name, path = everything["points"][0]
    assert -90 <= lat <= 90 and -180 <= lon <= 180 and name and path.startswith("/assets/")

    # A text search: the same results as the API's pages, every placed one on the map.
    fab = (await client.get("/api/map", params={"q": "fab"})).json()
    listed = await all_pages(client, {"q": "fab", "facets": "false"})
    with_place = [a for a in listed if (a.get("location") or {}).get("latitude") is not None]
    assert fab["total"] == len(listed) and fab["placed"] == len(with_place) > 1000
    assert sorted(p[2] for p in fab["points"]) == sorted(a["name"] for a in with_place)
    started = time.perf_counter()
    await client.get("/api/map", params={"q": "fab", "zoom": "3"})
    assert time.perf_counter() - started < 1.0  # generous: in-process, on a shared machine

    # France is fitted to the mainland, not stretched to the overseas labs it also has.
    france = (await client.get("/api/map", params={"country": "FR"})).json()
    lons = [p[1] for p in france["points"]]
    assert min(lons) < -50 or max(lons) > 50, "the data set has French labs overseas"
    min_lon, min_lat, max_lon, max_lat = france["focus"]
    assert min_lon >= -6 and max_lon <= 10 and min_lat >= 41 and max_lat <= 52

    # Past the point limit the database clusters, per zoom and inside the view.
    monkeypatch.setattr(map_layer, "POINT_LIMIT", 100)
    world = (await client.get("/api/map", params={"zoom": "2"})).json()
    assert world["mode"] == "clusters" and world["clusters"]
    assert sum(c[2] for c in world["clusters"]) + len(world["points"]) == world["placed"]
    closer = (await client.get("/api/map", params={"zoom": "6"})).json()
    assert len(closer["clusters"]) + len(closer["points"]) > len(world["clusters"]) + len(
        world["points"]
    )
    europe = (await client.get("/api/map", params={"zoom": "4", "view": "-10,35,30,60"})).json()
    assert europe["shown"] == sum(c[2] for c in europe["clusters"]) + len(europe["points"])
    assert 100 < europe["shown"] < world["placed"] and "placed" not in europe
    assert all(-10 <= c[1] <= 30 and 35 <= c[0] <= 60 for c in europe["clusters"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"zoom": "twenty"}, "zoom"),
        ({"zoom": "25"}, "zoom"),
        ({"view": "1,2,3"}, "view"),
        ({"view": "0,80,10,10"}, "view"),
        ({"country": "Spain"}, "country"),
    ],
)
async def test_bad_map_parameters_are_problems(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await client.get("/api/map", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == field
