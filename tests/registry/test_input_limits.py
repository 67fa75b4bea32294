"""Input limits: body size on the API and the inboxes (413), JSON nesting depth, and a
maximum for every text field and every array of the REST API that /api/openapi.json states
and the server enforces (422 naming the field). NUL characters, which PostgreSQL cannot
store, are refused up front. Nothing is written by a refused request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.tables import inbox_items
from registry.core import db
from registry.core.schema import assets
from tests.registry.test_assets_api import GARDEN

BASE = "http://registry.test"
SMALL_BODY = 4096


@pytest.fixture
async def http(make_app: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(server={"max_body_bytes": SMALL_BODY}, limits={"max_json_depth": 16})
    await app.state.runtime.start_federation(run_workers=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client
    await app.state.runtime.stop_federation()


async def rows(engine: AsyncEngine, table: Any) -> int:
    async with db.read(engine) as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth - 1):
        value = [value]
    return value


async def _chunks(total: int) -> AsyncIterator[bytes]:
    yield b'{"name": "'
    for _ in range(total // 1000):
        yield b"x" * 1000
    yield b'", "kind": "fablab"}'


@pytest.mark.parametrize("path", ["/api/assets", "/inbox", "/actor/inbox"])
async def test_bodies_over_the_limit_are_refused(
    http: httpx.AsyncClient,
    engine: AsyncEngine,
    group_token: str,
    auth: Callable[[str], dict[str, str]],
    path: str,
) -> None:
    headers = {**auth(group_token), "Content-Type": "application/json"}
    big = {**GARDEN, "description": "x" * SMALL_BODY}
    declared = await http.post(path, json=big, headers=headers)
    assert "limit" in assert_problem(declared, 413)["detail"]
    # Without a Content-Length (chunked), the stream is cut off at the limit.
    streamed = await http.post(path, content=_chunks(SMALL_BODY * 4), headers=headers)
    assert_problem(streamed, 413)
    assert await rows(engine, assets) == 0 and await rows(engine, inbox_items) == 0


async def test_json_nesting_depth_is_limited(
    http: httpx.AsyncClient,
    engine: AsyncEngine,
    group_token: str,
    auth: Callable[[str], dict[str, str]],
) -> None:
    deep = {**GARDEN, "tags": nested(17)}
    problem = assert_problem(
        await http.post("/api/assets", json=deep, headers=auth(group_token)), 400
    )
    assert "nests deeper than 16" in problem["detail"]
    refused = await http.post(
        "/inbox",
        json={"id": "http://127.0.0.1:9/a", "type": "Create", "object": nested(70)},
        headers={"Content-Type": "application/activity+json"},
    )
    assert "deeper" in assert_problem(refused, 400)["detail"]
    shallow = await http.post("/api/assets", json=GARDEN, headers=auth(group_token))
    assert shallow.status_code == 201
    assert await rows(engine, inbox_items) == 0


def _limited(schema: dict[str, Any], path: str = "") -> list[tuple[str, str, int]]:
    """Every (path, 'maxLength'|'maxItems', limit) in an input schema; fails on an unbounded
    string or array."""
    found = []
    for name, prop in schema.get("properties", {}).items():
        where = f"{path}.{name}" if path else name
        types = prop.get("type")
        types = types if isinstance(types, list) else [types]
        if "string" in types and "enum" not in prop:
            assert "maxLength" in prop, f"{where} has no maxLength"
            found.append((where, "maxLength", prop["maxLength"]))
        if "array" in types:
            assert "maxItems" in prop, f"{where} has no maxItems"
            found.append((where, "maxItems", prop["maxItems"]))
            item = prop.get("items", {})
            if item.get("type") == "string" and "enum" not in item:
                assert "maxLength" in item, f"{where}[] has no maxLength"
                found.append((f"{where}[0]", "maxLength", item["maxLength"]))
        if "object" in types:
            found += _limited(prop, where)
    return found


def _too_long(where: str, limit: int) -> str:
    if where in ("website", "derived_from", "steward.id", "same_as[0]"):
        return "https://example.org/" + "a" * limit
    if where == "email":
        return "a" * limit + "@example.org"
    if where == "telephone":
        return "1" * (limit + 1)
    return "A" * (limit + 1)


def _too_many(where: str, limit: int) -> list[Any]:
    n = limit + 1
    if where == "same_as":
        return [f"https://example.org/{i}" for i in range(n)]
    if where == "geometry.coordinates":
        return [[0.0, float(i % 80)] for i in range(n)]
    if where == "geometry.geometries":
        return [{"type": "Point", "coordinates": [0.0, 0.0]}] * n
    return [f"t{i}" for i in range(n)]


def _with(where: str, value: Any) -> dict[str, Any]:
    """GARDEN with the value at `where` (a.b or a[0])."""
    body = {k: (dict(v) if isinstance(v, dict) else v) for k, v in GARDEN.items()}
    if where.startswith("geometry."):
        kind = "GeometryCollection" if where.endswith("geometries") else "MultiPoint"
        body["geometry"] = {"type": kind, where.split(".")[1]: value}
    elif where.endswith("[0]"):
        body[where[:-3]] = [value]
    elif "." in where:
        outer, inner = where.split(".")
        body[outer] = {**body.get(outer, {}), inner: value}
        if outer == "steward":
            body[outer].setdefault("name", "Someone")
    else:
        body[where] = value
    return body


async def test_every_text_field_and_array_has_a_stated_and_enforced_maximum(
    make_app: Callable[..., Any],
    engine: AsyncEngine,
    group_token: str,
    auth: Callable[[str], dict[str, str]],
) -> None:
    app = make_app()  # the default 1 MiB body: the limits below are the fields' own
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        spec = (await http.get("/api/openapi.json")).json()
        limited = _limited(spec["components"]["schemas"]["AssetInput"])
        names = {where for where, _, _ in limited}
        assert {"name", "description", "tags", "tags[0]", "same_as", "location.locality"} <= names
        assert {"geometry.coordinates", "steward.name", "opening_hours[0]"} <= names
        for where, kind, limit in limited:
            value = _too_long(where, limit) if kind == "maxLength" else _too_many(where, limit)
            response = await http.post(
                "/api/assets", json=_with(where, value), headers=auth(group_token)
            )
            problem = assert_problem(response, 422)
            field = where.removesuffix("[0]").split(".")[0]
            assert any(e["field"].startswith(field) for e in problem["errors"]), (where, problem)
        # The request schemas of the other operations are bounded too.
        for item in spec["paths"].values():
            for operation in item.values():
                body = operation.get("requestBody", {}).get("content", {})
                for media in body.values():
                    schema = media["schema"]
                    if "properties" in schema and schema is not spec["components"]["schemas"]:
                        _limited(schema)
    assert await rows(engine, assets) == 0


async def test_account_texts_are_bounded(
    http: httpx.AsyncClient, admin_token: str, auth: Callable[[str], dict[str, str]]
) -> None:
    for body in ({"name": "n" * 201}, {"name": "ok", "slug": "s" * 65}):
        response = await http.post("/api/groups", json=body, headers=auth(admin_token))
        assert_problem(response, 422)
    response = await http.post("/api/tokens", json={"label": "l" * 201}, headers=auth(admin_token))
    assert_problem(response, 422)


async def test_nul_characters_are_refused_before_the_database(
    http: httpx.AsyncClient, admin_token: str, auth: Callable[[str], dict[str, str]]
) -> None:
    # PostgreSQL cannot store U+0000: each of these was a 500 there before.
    group = await http.post("/api/groups", json={"name": "a\u0000b"}, headers=auth(admin_token))
    assert assert_problem(group, 422)["errors"][0]["field"] == "name"
    path = await http.post("/api/groups/%00/suspension", json={}, headers=auth(admin_token))
    assert "NUL" in assert_problem(path, 400)["detail"]
    search = await http.get("/api/assets", params={"q": "a\u0000"})
    assert_problem(search, 400)
    huge_id = await http.delete(f"/api/tokens/{2**63}", headers=auth(admin_token))
    assert_problem(huge_id, 404)
