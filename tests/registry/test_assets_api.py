"""The REST API for assets, on both databases."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

PROBLEM = "application/problem+json"

GARDEN = {
    "name": "Jardí Comunitari del Poblenou",
    "summary": "A community garden run by neighbours.",
    "kind": "community-garden",
    "ownership_model": "public",
    "status": "active",
    "tags": ["garden", "Barcelona"],
    "license": "CC-BY-SA-4.0",
    "location": {"latitude": 41.40, "longitude": 2.20, "locality": "Barcelona", "country": "es"},
}


async def create(client: httpx.AsyncClient, token: str, body: dict | None = None) -> dict:
    response = await client.post(
        "/api/assets", json=body or GARDEN, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_group_creates_reads_and_finds_an_asset(
    client: httpx.AsyncClient, group_token: str
) -> None:
    asset = await create(client, group_token)
    assert asset["group"] == "coop-fab"
    assert asset["location"]["country"] == "ES"
    assert asset["iri"] == f"http://registry.test/assets/{asset['id']}"
    assert asset["moderation"]["state"] == "published"
    fetched = (await client.get(f"/api/assets/{asset['id']}")).json()
    assert fetched["name"] == GARDEN["name"]
    found = (await client.get("/api/assets", params={"q": "poblenou"})).json()
    assert [item["id"] for item in found["items"]] == [asset["id"]]
    assert found["facets"]["kind"] == {"community-garden": 1}


async def test_another_groups_token_cannot_touch_the_asset(
    client: httpx.AsyncClient, group_token: str, other_group_token: str, auth: Callable[[str], dict]
) -> None:
    asset = await create(client, group_token)
    url = f"/api/assets/{asset['id']}"
    for method, body in (("PATCH", {"name": "Taken"}), ("PUT", GARDEN), ("DELETE", None)):
        response = await client.request(method, url, json=body, headers=auth(other_group_token))
        assert response.status_code == 403, (method, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"].endswith("/forbidden")
    assert (await client.get(url)).json()["name"] == GARDEN["name"]


async def test_admin_manages_every_asset(
    client: httpx.AsyncClient, group_token: str, admin_token: str, auth: Callable[[str], dict]
) -> None:
    asset = await create(client, group_token)
    response = await client.patch(
        f"/api/assets/{asset['id']}", json={"name": "Renamed"}, headers=auth(admin_token)
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"


async def test_malformed_body_gets_422_naming_each_field(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    bad = {
        **GARDEN,
        "kind": "castle",
        "location": {"latitude": 123, "longitude": 2},
        "tags": ["ok", 7],
    }
    response = await client.post("/api/assets", json=bad, headers=auth(group_token))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"kind", "location.latitude"} <= fields
    assert any(f.startswith("tags") for f in fields)
    listing = (await client.get("/api/assets")).json()
    assert listing["items"] == []


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"", "application/json", 400),
        (b"[1, 2]", "application/json", 422),
        (b'"just a string"', "application/json", 422),
        (b"null", "application/json", 422),
        (b"name=x", "application/x-www-form-urlencoded", 415),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),
        (b'{"name": "' + b"x" * 2_000_000 + b'"}', "application/json", 413),
    ],
)
async def test_no_malformed_input_yields_500(
    client: httpx.AsyncClient,
    group_token: str,
    auth: Callable[[str], dict],
    content: bytes,
    content_type: str,
    status: int,
) -> None:
    response = await client.post(
        "/api/assets", content=content, headers={**auth(group_token), "Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"]


async def test_tokens_are_required_and_checked(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/assets", json=GARDEN)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    response = await client.post(
        "/api/assets", json=GARDEN, headers={"Authorization": "Bearer cr_nope"}
    )
    assert response.status_code == 401
    response = await client.post("/api/assets", json=GARDEN, headers={"Authorization": "Basic abc"})
    assert response.status_code == 401


async def test_delete_leaves_a_gone_tombstone(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    asset = await create(client, group_token)
    response = await client.delete(f"/api/assets/{asset['id']}", headers=auth(group_token))
    assert response.status_code == 204
    response = await client.get(f"/api/assets/{asset['id']}")
    assert response.status_code == 410
    assert response.headers["content-type"] == PROBLEM
    assert (await client.get("/api/assets")).json()["items"] == []


async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    response = await client.request("TRACE", "/api/assets")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    response = await client.get("/api/assets/doesnotexist")
    assert response.status_code == 404


async def test_revoked_token_stops_working(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    tokens = (await client.get("/api/tokens", headers=auth(group_token))).json()["items"]
    assert len(tokens) == 1 and "token_hash" not in tokens[0]
    created = await client.post("/api/tokens", json={"label": "laptop"}, headers=auth(group_token))
    assert created.status_code == 201
    second = created.json()["token"]
    assert (await client.get("/api/me", headers=auth(second))).json()["group"] == "coop-fab"
    revoked = await client.delete(f"/api/tokens/{created.json()['id']}", headers=auth(group_token))
    assert revoked.json()["revoked"] is not None
    assert (await client.get("/api/me", headers=auth(second))).status_code == 401


async def test_group_cannot_make_admin_tokens_or_see_other_groups(
    client: httpx.AsyncClient, group_token: str, other_group_token: str, auth: Callable[[str], dict]
) -> None:
    response = await client.post("/api/tokens", json={"role": "admin"}, headers=auth(group_token))
    assert response.status_code == 403
    response = await client.post("/api/tokens", json={"group": "jardi"}, headers=auth(group_token))
    assert response.status_code == 403
    response = await client.get("/api/groups", headers=auth(group_token))
    assert response.status_code == 403
    other = (await client.get("/api/tokens", headers=auth(other_group_token))).json()["items"]
    assert (
        await client.delete(f"/api/tokens/{other[0]['id']}", headers=auth(group_token))
    ).status_code == 404


async def test_suspended_group_is_refused(
    client: httpx.AsyncClient, group_token: str, admin_token: str, auth: Callable[[str], dict]
) -> None:
    response = await client.post(
        "/api/groups/coop-fab/suspension", json={"reason": "spam"}, headers=auth(admin_token)
    )
    assert response.json()["suspended"] is True
    response = await client.post("/api/assets", json=GARDEN, headers=auth(group_token))
    assert response.status_code == 403
    await client.delete("/api/groups/coop-fab/suspension", headers=auth(admin_token))
    await create(client, group_token)


async def test_openapi_describes_the_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    assert {"/api/assets", "/api/assets/{uid}", "/api/tokens", "/api/groups"} <= set(spec["paths"])
    properties = spec["components"]["schemas"]["AssetInput"]["properties"]
    assert {"name", "kind", "location", "tags", "license"} <= set(properties)


async def test_every_version_gets_a_later_updated_stamp(
    client: httpx.AsyncClient, group_token: str
) -> None:
    # Mirrors keep the version with the latest `updated`, which is kept to the second:
    # edits made within one second must still be ordered.
    asset = await create(client, group_token)
    stamps = [asset["updated"]]
    auth = {"Authorization": f"Bearer {group_token}"}
    for n in range(3):
        response = await client.patch(
            f"/api/assets/{asset['id']}", json={"summary": f"Edit {n}"}, headers=auth
        )
        stamps.append(response.json()["updated"])
    assert stamps == sorted(set(stamps)), stamps
