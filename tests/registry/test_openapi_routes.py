"""The OpenAPI documents say what the node serves: every API route (and every OGC route) is
described with each of its methods, every described path is served, and every query parameter
the endpoints read is described (the search's are read off `parse_query` itself)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from registry.catalog.search_query import parse_query
from registry.http import routes
from registry.http.api.map import map_request
from registry.http.api.openapi import NOT_FOR_EXPORTS
from registry.http.opendata import ogc_features

METHODS = {"get", "put", "post", "delete", "patch"}


class Reads(dict[str, Any]):
    """An empty query string that notes every parameter asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def getlist(self, key: str) -> list[str]:
        self.asked.add(key)
        return []

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return False


def read_by_search() -> set[str]:
    params = Reads()
    parse_query(params, page_size=20, max_page_size=100, principal=None)
    return params.asked


def operations(spec: dict[str, Any], prefix: str = "") -> set[tuple[str, str]]:
    return {
        (prefix + path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }


def served(under: str, leave_out: tuple[str, ...] = ()) -> set[tuple[str, str]]:
    return {
        (row.path, method.lower())
        for row in routes.table()
        if (row.path == under or row.path.startswith(under + "/")) and row.name not in leave_out
        for method in row.methods
    }


def parameters(spec: dict[str, Any], path: str, method: str = "get") -> Iterator[str]:
    return (p["name"] for p in spec["paths"][path][method].get("parameters", ()))


async def test_every_api_route_is_described_and_every_description_is_served(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    api = served("/api")
    assert len(api) > 30 and ("/api/assets.csv", "get") in api
    described = operations(spec)
    assert api - described == set(), "routes missing from /api/openapi.json"
    assert described - api == set(), "/api/openapi.json describes what is not served"


async def test_the_ogc_document_matches_the_ogc_routes(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/ogc/api")).json()
    assert spec["servers"][0]["url"].endswith("/ogc")
    described = {(path.rstrip("/") or "/ogc", m) for path, m in operations(spec, "/ogc")}
    # /ogc/ is the landing page again, /ogc/api this document.
    assert served("/ogc", ("ogc.landing_slash", "ogc.api")) == described


async def test_every_query_parameter_read_is_described(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    search = read_by_search()
    assert {"q", "kind", "near", "cursor", "modified_since"} <= search
    assert set(parameters(spec, "/api/assets")) == search

    view = Reads()
    map_request(view)
    assert view.asked == {"zoom", "view"}
    assert set(parameters(spec, "/api/map")) == (search - {"sort", "limit", "cursor"}) | view.asked

    for export in ("/api/assets.geojson", "/api/assets.csv"):
        assert set(parameters(spec, export)) == search - set(NOT_FOR_EXPORTS), export

    ogc = (await client.get("/ogc/api")).json()
    items = set(parameters(ogc, "/collections/{cid}/items"))
    assert items == ogc_features.ALLOWED | {"cid"}


async def test_modified_since_filters_and_refuses_what_is_not_a_time(
    client: httpx.AsyncClient,
) -> None:
    later = await client.get("/api/assets", params={"modified_since": "2999-01-01"})
    assert later.status_code == 200 and later.json()["items"] == []
    # Before year 1 once in UTC: a 400 that names the parameter, not an overflow.
    for bad in ("yesterday", "0001-01-01T00:00:00+01:00"):
        response = await client.get("/api/assets", params={"modified_since": bad})
        assert response.status_code == 400, (bad, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "modified_since" in response.json()["detail"]
