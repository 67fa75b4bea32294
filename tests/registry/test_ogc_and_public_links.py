"""OGC API - Features at /ogc, and every public link of the open-data views built from
node.base_url even when the request names an internal host (a reverse proxy's backend)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import rdflib

from tests.conftest import BASE_URL
from tests.registry.test_linked_data import seed

INTERNAL = {"Host": "backend.internal:8080"}


async def test_ogc_landing_conformance_and_collections(client: httpx.AsyncClient) -> None:
    landing = (await client.get("/ogc")).json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert rels["conformance"] == f"{BASE_URL}/ogc/conformance"
    assert rels["data"] == f"{BASE_URL}/ogc/collections"
    api = (await client.get(rels["service-desc"])).json()
    assert api["openapi"].startswith("3.0") and "/collections/{cid}/items" in api["paths"]
    conforms = (await client.get("/ogc/conformance")).json()["conformsTo"]
    assert {c.rsplit("/", 1)[1] for c in conforms} == {"core", "geojson", "oas30"}
    ids = [c["id"] for c in (await client.get("/ogc/collections")).json()["collections"]]
    assert ids[0] == "all" and "fablab" in ids and "community-garden" in ids
    missing = await client.get("/ogc/collections/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_ogc_items_filters_and_pages(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    created = await seed(client, group_token, auth)
    items = "/ogc/collections/all/items"
    everything = (await client.get(items)).json()
    assert everything["numberMatched"] == everything["numberReturned"] == 3
    gardens = (await client.get("/ogc/collections/community-garden/items")).json()
    assert {f["properties"]["kind"] for f in gardens["features"]} == {"community-garden"}
    assert gardens["numberReturned"] == 2
    in_spain = (await client.get(items, params={"bbox": "2,41,3,42"})).json()
    assert [f["properties"]["name"] for f in in_spain["features"]] == ["Garden 2"]
    assert (await client.get(items, params={"country": "ES"})).json()["numberReturned"] == 1
    assert (await client.get(items, params={"status": "closed"})).json()["numberReturned"] == 0
    # datetime on the last change: an open interval up to the past holds nothing
    past = (await client.get(items, params={"datetime": "../2000-01-01T00:00:00Z"})).json()
    assert past["numberReturned"] == 0
    now = (await client.get(items, params={"datetime": "2000-01-01T00:00:00Z/.."})).json()
    assert now["numberReturned"] == 3
    # limit pages with next links, and beyond its maximum it is clamped, not refused
    seen, url = [], f"{items}?limit=2"
    while url:
        page = (await client.get(url)).json()
        seen += [f["id"] for f in page["features"]]
        url = next((x["href"] for x in page["links"] if x["rel"] == "next"), None)
    assert sorted(seen) == sorted(a["id"] for a in created)
    assert (await client.get(items, params={"limit": 100_000})).status_code == 200
    feature = (await client.get(f"{items}/{created[0]['id']}")).json()
    assert feature["id"] == created[0]["id"]
    assert feature["geometry"]["coordinates"] == [2.35, 48.85]
    for bad in ({"datetime": "yesterday"}, {"colour": "red"}, {"limit": "x"}, {"bbox": "1,2"}):
        response = await client.get(items, params=bad)
        assert response.status_code == 400, bad
        assert response.headers["content-type"] == "application/problem+json"
    wrong = await client.get(f"/ogc/collections/fablab/items/{created[0]['id']}")
    assert wrong.status_code == 404


async def test_every_public_link_comes_from_base_url(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    created = await seed(client, group_token, auth)
    catalog = await client.get("/dcat/catalog.jsonld", params={"limit": 1}, headers=INTERNAL)
    graph = rdflib.Graph().parse(data=catalog.text, format="json-ld")
    ours = {str(t) for triple in graph for t in triple if isinstance(t, rdflib.URIRef)}
    assert not [iri for iri in ours if "backend.internal" in iri]
    hydra_next = rdflib.URIRef("http://www.w3.org/ns/hydra/core#next")
    assert str(next(graph.objects(None, hydra_next))).startswith(f"{BASE_URL}/dcat/catalog.jsonld?")
    for url in (
        "/ogc",
        "/ogc/api",
        "/ogc/collections",
        "/ogc/collections/all/items?limit=1",
        f"/ogc/collections/all/items/{created[0]['id']}",
        "/api/assets.geojson",
        "/api/assets.csv",
        f"/assets/{created[0]['id']}.csv",
        f"/assets/{created[0]['id']}",
    ):
        response = await client.get(url, headers=INTERNAL)
        assert response.status_code == 200, url
        assert "backend.internal" not in response.text, url
    page = (await client.get("/ogc/collections/all/items?limit=1", headers=INTERNAL)).json()
    next_link = next(x["href"] for x in page["links"] if x["rel"] == "next")
    assert next_link.startswith(f"{BASE_URL}/ogc/collections/all/items?")


async def test_asset_pages_carry_schema_org_and_link_the_catalog(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    created = await seed(client, group_token, auth)
    html = (await client.get(f"/assets/{created[0]['id']}", headers={"Accept": "text/html"})).text
    start = html.index('<script type="application/ld+json">') + len(
        '<script type="application/ld+json">'
    )
    data = json.loads(html[start : html.index("</script>", start)])
    assert data["@type"] == "Dataset" and data["name"] == "Garden 0"
    assert data["url"] == f"{BASE_URL}/assets/{created[0]['id']}"
    assert data["spatialCoverage"]["@type"] == "Place"
    assert data["spatialCoverage"]["geo"] == {
        "@type": "GeoCoordinates",
        "latitude": 48.85,
        "longitude": 2.35,
    }
    assert data["description"]  # a plain-language one when the group wrote none
    assert data["license"] is None or data["license"].startswith("https://spdx.org/licenses/")
    catalog_link = (
        f'<link rel="alternate" type="application/ld+json" href="{BASE_URL}/dcat/catalog.jsonld"'
    )
    for url in ("/", f"/assets/{created[0]['id']}", "/search"):
        assert catalog_link in (await client.get(url, headers={"Accept": "text/html"})).text
