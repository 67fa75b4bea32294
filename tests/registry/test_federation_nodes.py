"""Two of our nodes as separate server processes follow each other and exchange signed
activities; deliveries survive a peer being down and a restart of the sender."""

from __future__ import annotations

import pytest

from tests.nodes import Node, eventually
from tests.registry.test_assets_api import GARDEN


async def following_state(node: Node, actor: str) -> str | None:
    async with node.client() as http:
        items = (await http.get("/api/federation/following")).json()["items"]
    return next((i["state"] for i in items if i["actor"] == actor), None)


async def inbox_of(node: Node, kind: str | None = None) -> list[dict]:
    async with node.client() as http:
        items = (await http.get("/api/federation/inbox", params={"limit": 500})).json()["items"]
    return [i for i in items if kind is None or i["type"] == kind]


async def follow(a: Node, b: Node) -> None:
    a.cli("follow", b.actor)
    await eventually(lambda: _accepted(a, b), what=f"{b.name} accepting {a.name}'s follow")


async def _accepted(a: Node, b: Node) -> bool:
    return await following_state(a, b.actor) == "accepted"


async def create_asset(node: Node, body: dict) -> dict:
    token = node.cli("group", "create", f"Group {body['name']}").split()[-1]
    async with node.client(token) as http:
        response = await http.post("/api/assets", json=body)
        assert response.status_code == 201, response.text
        return response.json()


@pytest.mark.timeout(120)
async def test_two_nodes_follow_each_other_and_exchange_signed_activities(
    node_factory, database: str
) -> None:
    a, b = node_factory("A", on=database), node_factory("B")
    await follow(a, b)
    await follow(b, a)
    async with b.client() as http:
        followers = (await http.get("/api/federation/followers")).json()["items"]
    assert [(f["actor"], f["state"]) for f in followers] == [(a.actor, "accepted")]

    asset = await create_asset(a, GARDEN)

    async def arrived() -> list[dict]:
        return [i for i in await inbox_of(b, "Create") if i["object"] == asset["iri"]]

    [create] = await eventually(arrived, what="the Create reaching B")
    assert create["actor"] == a.actor

    async with a.client() as http:
        await http.patch(f"/api/assets/{asset['id']}", json={"name": "Renamed"})
        await http.delete(f"/api/assets/{asset['id']}")
    await eventually(lambda: inbox_of(b, "Delete"), what="the Delete reaching B")
    assert await inbox_of(b, "Update")


@pytest.mark.timeout(180)
async def test_delivery_to_a_down_peer_arrives_after_restarts(node_factory, database: str) -> None:
    a, b = node_factory("A", on=database), node_factory("B")
    await follow(b, a)  # B follows A: A delivers to B
    b.stop()
    asset = await create_asset(a, {**GARDEN, "name": "While B was away"})

    async def failed_once() -> bool:
        async with a.client() as http:
            queues = (await http.get("/api/federation/queues")).json()
        return any(
            d["attempts"] >= 1 and d["state"] == "pending" for d in queues["recent_deliveries"]
        )

    await eventually(failed_once, what="a failed delivery attempt to B")
    a.stop(kill=True)  # the sender dies with the delivery still pending
    a.start()
    b.start()

    async def arrived() -> list[dict]:
        return [i for i in await inbox_of(b, "Create") if i["object"] == asset["iri"]]

    found = await eventually(arrived, timeout=60, what="the Create reaching B after restarts")
    assert len(found) == 1
