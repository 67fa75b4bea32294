"""Moderation: submissions wait for an admin when the node asks for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from tests.registry.test_assets_api import GARDEN


@pytest.fixture
async def moderated(make_app: Callable[..., object]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(moderation={"require_approval": True})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://registry.test",
    ) as http:
        yield http


async def test_submission_waits_then_admin_approves(
    moderated: httpx.AsyncClient, group_token: str, admin_token: str, auth: Callable[[str], dict]
) -> None:
    created = (await moderated.post("/api/assets", json=GARDEN, headers=auth(group_token))).json()
    assert created["moderation"]["state"] == "pending"
    uid = created["id"]
    assert (await moderated.get(f"/api/assets/{uid}")).status_code == 404
    assert (await moderated.get("/api/assets")).json()["items"] == []
    mine = (
        await moderated.get(
            "/api/assets", params={"moderation": "pending"}, headers=auth(group_token)
        )
    ).json()
    assert [a["id"] for a in mine["items"]] == [uid]
    queue = (await moderated.get("/api/moderation/queue", headers=auth(admin_token))).json()
    assert [a["id"] for a in queue["items"]] == [uid]
    assert (
        await moderated.post(f"/api/assets/{uid}/approve", headers=auth(group_token))
    ).status_code == 403
    approved = await moderated.post(f"/api/assets/{uid}/approve", headers=auth(admin_token))
    assert approved.json()["moderation"]["state"] == "published"
    assert (await moderated.get(f"/api/assets/{uid}")).status_code == 200


async def test_rejection_needs_a_reason_and_is_shown_to_the_group(
    moderated: httpx.AsyncClient, group_token: str, admin_token: str, auth: Callable[[str], dict]
) -> None:
    uid = (await moderated.post("/api/assets", json=GARDEN, headers=auth(group_token))).json()["id"]
    response = await moderated.post(f"/api/assets/{uid}/reject", json={}, headers=auth(admin_token))
    assert response.status_code == 422
    response = await moderated.post(
        f"/api/assets/{uid}/reject",
        json={"reason": "Please add an address"},
        headers=auth(admin_token),
    )
    assert response.json()["moderation"] == {
        "state": "rejected",
        "reason": "Please add an address",
        "pending_change": False,
    }
    seen = (await moderated.get(f"/api/assets/{uid}", headers=auth(group_token))).json()
    assert seen["moderation"]["reason"] == "Please add an address"
    fixed = await moderated.patch(
        f"/api/assets/{uid}", json={"summary": "With address"}, headers=auth(group_token)
    )
    assert fixed.json()["moderation"]["state"] == "pending"


async def test_edit_of_published_asset_waits_while_old_version_stays(
    moderated: httpx.AsyncClient, group_token: str, admin_token: str, auth: Callable[[str], dict]
) -> None:
    uid = (await moderated.post("/api/assets", json=GARDEN, headers=auth(group_token))).json()["id"]
    await moderated.post(f"/api/assets/{uid}/approve", headers=auth(admin_token))
    edited = await moderated.patch(
        f"/api/assets/{uid}", json={"name": "New name"}, headers=auth(group_token)
    )
    assert edited.json()["moderation"]["pending_change"] is True
    assert (await moderated.get(f"/api/assets/{uid}")).json()["name"] == GARDEN["name"]
    await moderated.post(f"/api/assets/{uid}/approve", headers=auth(admin_token))
    assert (await moderated.get(f"/api/assets/{uid}")).json()["name"] == "New name"
