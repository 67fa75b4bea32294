"""Assets, concepts and open-data views as linked data: content negotiation, JSON-LD that any
processor reads, DCAT that rdflib (and so ckanext-dcat) understands, GeoJSON, CSV."""

from __future__ import annotations

import csv
import io
import socket
from collections.abc import Callable

import httpx
import pytest
import rdflib

import vocab
from registry.catalog import store
from registry.catalog.parsed_documents import ParsedDocuments
from tests.registry.test_assets_api import GARDEN, create

AS = "https://www.w3.org/ns/activitystreams#"
JSONLD_ACCEPTS = [
    ("application/activity+json", "application/activity+json"),
    ("application/ld+json", 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'),
    (
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    ),
    ("application/json", "application/json"),
    ("text/html;q=0.1, application/activity+json", "application/activity+json"),
]


@pytest.mark.parametrize(("accept", "content_type"), JSONLD_ACCEPTS)
async def test_asset_iri_serves_jsonld_to_machines(
    client: httpx.AsyncClient, group_token: str, accept: str, content_type: str
) -> None:
    asset = await create(client, group_token)
    response = await client.get(asset["iri"], headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["vary"] == "Accept"
    doc = response.json()
    assert doc["id"] == asset["iri"]
    assert doc["type"] == "Page" and doc["rdfType"] == "commons:CommonsAsset"
    assert doc["attributedTo"] == "http://registry.test/actor"
    assert doc["url"] == asset["iri"]
    assert doc["abstract"] == GARDEN["summary"] and len(doc["abstract"]) <= 500
    assert "summary" not in doc  # it would be a content warning over the post
    assert doc["published"].endswith("Z")
    assert "updated" not in doc  # a new asset was never edited (servers would say "edited")
    assert {
        "type": "Hashtag",
        "name": "#garden",
        "href": "http://registry.test/tags/garden",
    } in doc["tag"]
    record, meta = vocab.read_asset_document(doc)
    expanded = vocab.expand(doc)[0]
    assert expanded["@id"] == asset["iri"] and AS + "Page" in expanded["@type"]
    assert record.name == GARDEN["name"] and meta.iri == asset["iri"]


@pytest.mark.parametrize(
    "accept", ["text/html", "text/html,application/xhtml+xml,*/*;q=0.8", "*/*", None]
)
async def test_asset_iri_serves_a_page_to_people(
    client: httpx.AsyncClient, group_token: str, accept: str | None
) -> None:
    asset = await create(client, group_token)
    headers = {"Accept": accept} if accept else {}
    response = await client.get(asset["iri"], headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    # The page also depends on the visitor's language (header or cookie).
    assert response.headers["vary"] == "Accept, Accept-Language, Cookie"
    assert f"<h1>{GARDEN['name']}</h1>" in response.text
    assert "Community garden" in response.text and "@registry@registry.test" in response.text


async def test_nothing_acceptable_is_406_with_a_problem(
    client: httpx.AsyncClient, group_token: str
) -> None:
    asset = await create(client, group_token)
    for url in (asset["iri"], "/vocab/kinds", "/vocab/kinds/fablab"):
        response = await client.get(url, headers={"Accept": "image/png"})
        assert response.status_code == 406, url
        assert response.headers["content-type"] == "application/problem+json"
        assert "image/png" in response.json()["detail"]


async def test_deleted_asset_is_a_tombstone(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    asset = await create(client, group_token)
    await client.delete(f"/api/assets/{asset['id']}", headers=auth(group_token))
    response = await client.get(asset["iri"], headers={"Accept": "application/activity+json"})
    assert response.status_code == 410
    body = response.json()
    assert body["type"] == "Tombstone" and body["id"] == asset["iri"] and body["deleted"]
    page = await client.get(asset["iri"], headers={"Accept": "text/html"})
    assert page.status_code == 410 and "text/html" in page.headers["content-type"]


async def test_markup_in_names_is_shown_as_text(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    evil = {
        **GARDEN,
        "name": '<script>alert(1)</script><img src=x onerror="alert(2)">',
        "summary": "<b>bold</b> & <i>more</i>",
        "website": "https://example.org/?a=<x>",
    }
    asset = await create(client, group_token, evil)
    page = (await client.get(asset["iri"], headers={"Accept": "text/html"})).text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    doc = (await client.get(asset["iri"], headers={"Accept": "application/activity+json"})).json()
    assert doc["abstract"] == evil["summary"]  # a plain literal
    # the post (HTML) carries every text escaped
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;more&lt;/i&gt;" in doc["content"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc["content"]
    assert "<script" not in doc["content"] and "<img" not in doc["content"]
    assert vocab.read_asset_document(doc)[0].summary == evil["summary"]
    search = (await client.get("/search", params={"q": "alert"})).text
    assert "<script>alert(1)" not in search


@pytest.mark.parametrize("scheme", vocab.SCHEMES)
async def test_every_concept_resolves_as_jsonld_and_html(
    client: httpx.AsyncClient, scheme: str
) -> None:
    listing = await client.get(f"/vocab/{scheme}", headers={"Accept": "application/ld+json"})
    assert listing.status_code == 200 and listing.headers["vary"] == "Accept"
    assert vocab.expand(listing.json())
    for slug in vocab.slugs(scheme):
        url = f"/vocab/{scheme}/{slug}"
        doc = (await client.get(url, headers={"Accept": "application/ld+json"})).json()
        assert doc["id"] == vocab.concept_iri(scheme, slug)
        assert set(doc["prefLabel"]) == {"en", "es", "ca", "fr", "de", "it"}
        page = await client.get(url, headers={"Accept": "text/html"})
        assert page.status_code == 200
        for lang in ("en", "es", "fr", "de"):
            assert f'lang="{lang}"' in page.text
    assert (await client.get(f"/vocab/{scheme}/nope")).status_code == 404


async def test_context_document_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/context.jsonld")
    assert response.headers["content-type"] == "application/ld+json"
    assert response.json() == vocab.commons_context_document()


async def seed(client: httpx.AsyncClient, token: str, auth: Callable[[str], dict]) -> list[dict]:
    assets = []
    for i, (lat, lon, country) in enumerate(
        [(48.85, 2.35, "FR"), (48.86, 2.34, "FR"), (41.39, 2.17, "ES")]
    ):
        body = {
            **GARDEN,
            "name": f"Garden {i}",
            "kind": "open-dataset" if i == 2 else "community-garden",
            "location": {"latitude": lat, "longitude": lon, "country": country},
            "tags": ["garden", f"t{i}"],
            "rights": "CC BY 4.0, Someone",
        }
        response = await client.post("/api/assets", json=body, headers=auth(token))
        assets.append(response.json())
    return assets


async def test_dcat_catalog_parses_with_rdflib_and_pages(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    created = await seed(client, group_token, auth)
    response = await client.get("/dcat/catalog.jsonld", params={"limit": 2})
    assert response.headers["content-type"] == "application/ld+json"
    graph = rdflib.Graph().parse(data=response.text, format="json-ld")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    hydra = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
    catalogs = list(graph.subjects(rdflib.RDF.type, dcat.Catalog))
    assert catalogs == [rdflib.URIRef("http://registry.test/dcat/catalog.jsonld")]
    first_page = set(graph.subjects(rdflib.RDF.type, dcat.Dataset))
    assert len(first_page) == 2
    next_url = str(next(graph.objects(None, hydra.next)))
    assert next_url.startswith("http://registry.test/dcat/catalog.jsonld?")
    second = rdflib.Graph().parse(data=(await client.get(next_url)).text, format="json-ld")
    rest = set(second.subjects(rdflib.RDF.type, dcat.Dataset))
    # every kind is a Dataset, each with its distributions
    assert {str(s) for s in first_page | rest} == {a["iri"] for a in created}
    for dataset in first_page:
        assert len(list(graph.objects(dataset, dcat.distribution))) == 4
    later = await client.get("/dcat/catalog.jsonld", params={"modified_since": "2999-01-01"})
    assert not set(
        rdflib.Graph()
        .parse(data=later.text, format="json-ld")
        .subjects(rdflib.RDF.type, dcat.Dataset)
    )


async def test_geojson_with_search_filters(
    client: httpx.AsyncClient,
    group_token: str,
    auth: Callable[[str], dict],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await seed(client, group_token, auth)
    parsed = ParsedDocuments()
    monkeypatch.setattr(store, "PARSED", parsed)
    response = await client.get("/api/assets.geojson", params={"bbox": "2,48,3,49"})
    assert len(parsed) == 0  # a walk of the catalog leaves the parsed documents be
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 2
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        lon, lat = feature["geometry"]["coordinates"]
        assert feature["geometry"]["type"] == "Point" and 2 <= lon <= 3 and 48 <= lat <= 49
    assert (await client.get("/api/assets.geojson", params={"kind": "bad"})).status_code == 400


async def test_csv_export_round_trips(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    created = await seed(client, group_token, auth)
    response = await client.get("/api/assets.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(vocab.read_csv(io.StringIO(response.text), None))
    records = {r.name: r for _, r in rows}
    assert set(records) == {a["name"] for a in created}
    for asset in created:
        api = vocab.validate_asset_input(
            {k: v for k, v in asset.items() if k in {f.name for f in vocab.FIELDS}}
        )
        assert records[asset["name"]] == api
    assert len(list(csv.reader(io.StringIO(response.text)))) == 4


async def test_no_request_touches_the_network(
    client: httpx.AsyncClient,
    group_token: str,
    auth: Callable[[str], dict],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """JSON-LD work uses bundled contexts only: any connection off this machine fails."""
    real_connect = socket.socket.connect

    def loopback_only(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else ""
        if host not in ("127.0.0.1", "::1", "localhost") and self.family != socket.AF_UNIX:
            raise AssertionError(f"network access to {address}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: (_ for _ in ()).throw(AssertionError("DNS lookup"))
    )
    await seed(client, group_token, auth)
    for url in ("/dcat/catalog.jsonld", "/api/assets.geojson", "/vocab/kinds/fablab"):
        assert (await client.get(url, headers={"Accept": "application/ld+json"})).status_code == 200
    asset = (await client.get("/api/assets")).json()["items"][0]
    doc = (await client.get(asset["iri"], headers={"Accept": "application/ld+json"})).json()
    assert vocab.expand(doc) and vocab.to_rdf(doc)
