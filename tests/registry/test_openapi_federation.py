"""The admin federation API is in the OpenAPI document (and so under the schemathesis fuzz of
tests/fuzz/test_openapi_fuzz.py): every route of registry/http/api/federation.py, each method."""

from __future__ import annotations

import httpx

from registry.http.api import federation as api_federation


async def test_every_admin_federation_route_is_described(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    routes = {
        (route.path, method.lower())
        for route in api_federation.routes
        for method in route.methods
        if method != "HEAD"
    }
    assert {path for path, _ in routes} >= {"/api/federation/following", "/api/partners"}
    described = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert routes <= described, sorted(routes - described)
    for path, method in routes:
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"bearer": []}], (path, method)
        assert {"401", "403"} <= set(operation["responses"]), (path, method)
