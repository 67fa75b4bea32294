"""Places by name: the catalog's towns, then a Nominatim- or Photon-compatible geocoder (a
stand-in on 127.0.0.1), for GET /api/places and the search page; on both databases."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.conftest import BASE_URL
from tests.geocoder_standin import geocoder

LABS = [
    ("Ateneu de Fabricació Les Corts", "Barcelona", 41.383, 2.130),
    ("Fab Lab Barcelona", "Barcelona", 41.397, 2.194),
    ("Made Makerspace", "barcelona", 41.404, 2.175),
    ("Fablab Girona", "Girona", 41.979, 2.821),
]


async def seed(client: httpx.AsyncClient, token: str, auth: Callable[[str], dict]) -> None:
    for name, town, lat, lon in LABS:
        body = {"name": name, "kind": "fablab", "location": {"locality": town, "country": "ES",
                "latitude": lat, "longitude": lon}}  # fmt: skip
        assert (await client.post("/api/assets", json=body, headers=auth(token))).status_code == 201


async def test_catalog_towns_answer_first(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    await seed(client, group_token, auth)
    found = (await client.get("/api/places", params={"q": "BARCE"})).json()["items"]
    assert len(found) == 1  # one town, whatever the case it was typed in
    barcelona = found[0]
    assert barcelona["source"] == "catalog" and barcelona["assets"] == 3
    assert barcelona["country"] == "ES"
    assert barcelona["latitude"] == pytest.approx((41.383 + 41.397 + 41.404) / 3, abs=1e-4)
    assert (await client.get("/api/places", params={"q": "Atlantis"})).json()["items"] == []
    bad = await client.get("/api/places", params={"q": ""})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem")
    # 50%_ are text, not patterns.
    assert (await client.get("/api/places", params={"q": "%"})).json()["items"] == []

    # The search page: a town by name becomes "near", shown and removable as a chip.
    page = (await client.get("/search", params={"place": "Barcelona"})).text
    assert "3 results" in page and "Fablab Girona" not in page
    assert "within 25 km of Barcelona" in page
    unknown = await client.get("/search", params={"place": "Atlantis"})
    assert unknown.status_code == 400 and "We could not find a place called" in unknown.text


@pytest.mark.parametrize("api", ["/search", "/api"])
async def test_geocoder_answers_what_the_catalog_does_not_know(
    make_app: Callable[..., object],
    group_token: str,
    auth: Callable[[str], dict],
    api: str,
) -> None:
    with geocoder() as (url, asked):
        app = make_app(web={"geocoder_url": url + api})
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            await seed(client, group_token, auth)
            found = (await client.get("/api/places", params={"q": "Nantes"})).json()["items"]
            assert [(p["source"], p["latitude"], p["longitude"]) for p in found] == [
                ("geocoder", 47.2184, -1.5536)
            ]
            assert found[0]["country"] == "FR" and "Nantes" in found[0]["name"]
            assert asked[-1]["q"] == "Nantes" and asked[-1]["ua"].startswith("commons-registry/")
            # Cached: asked once; the catalog's own towns never reach the geocoder.
            await client.get("/api/places", params={"q": "nantes"})
            await client.get("/api/places", params={"q": "Barcelona"})
            assert [a["q"] for a in asked] == ["Nantes"]


async def test_a_geocoder_that_is_down_leaves_the_catalog(
    make_app: Callable[..., object], group_token: str, auth: Callable[[str], dict]
) -> None:
    app = make_app(web={"geocoder_url": "http://127.0.0.1:9/search", "geocoder_timeout": 1.0})
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        await seed(client, group_token, auth)
        assert (await client.get("/api/places", params={"q": "Nantes"})).json()["items"] == []
        found = (await client.get("/api/places", params={"q": "Girona"})).json()["items"]
        assert [p["name"] for p in found] == ["Girona"]
