"""A commons group as a fediverse actor, against an independent ActivityPub server: a
bovine-herd actor (a Mastodon-compatible follower) follows one group of our node, gets the
group's signed Accept, and then receives that group's public assets and nothing else: not
another group's, not the group's partners-only or group-only ones."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.interop.peers import BovineHerd
from tests.nodes import eventually

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]


def _id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _asset(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "tool-library", **extra}


async def test_herd_follows_one_group_and_receives_only_its_assets(
    herd_factory, node_factory
) -> None:
    herd: BovineHerd = herd_factory("groupfan")
    node = node_factory("groups")
    token = node.cli("group", "create", "Bici Coop").split()[-1]
    other = node.cli("group", "create", "Jardi Barri").split()[-1]
    group = f"{node.base_url}/groups/bici-coop"

    async with node.client() as http:
        finger = await http.get(
            "/.well-known/webfinger", params={"resource": f"acct:bici-coop@127.0.0.1:{node.port}"}
        )
        assert finger.status_code == 200, finger.text
        assert finger.json()["links"][0]["href"] == group
        actor = (await http.get(group, headers={"accept": "application/activity+json"})).json()
        assert actor["type"] == "Group" and actor["publicKey"]["owner"] == group

    follow_id = await herd.follow(group)
    accept = await herd.wait_for_inbox(
        lambda item: item.get("type") == "Accept" and _id(item.get("actor")) == group,
        what="the group's Accept in the herd inbox",
    )
    assert _id(accept["object"]) == follow_id, accept

    async def post(bearer: str, body: dict[str, Any]) -> dict[str, Any]:
        async with node.client(bearer) as http:
            response = await http.post("/api/assets", json=body)
            assert response.status_code == 201, response.text
            return response.json()

    elsewhere = await post(other, _asset("Jardi tools"))
    partners_only = await post(token, _asset("Bici partners", visibility="partners"))
    members_only = await post(token, _asset("Bici members", visibility="group"))
    ours = await post(token, _asset("Bici Taller"))

    create = await herd.wait_for_inbox(
        lambda item: item.get("type") == "Create" and _id(item.get("object")) == ours["iri"],
        what="the group's Create in the herd inbox",
    )
    assert _id(create["actor"]) == group, create
    assert _id(create["object"].get("attributedTo")) == group, create

    async def queue_empty() -> bool:
        async with node.client() as http:
            body = (await http.get("/api/federation/queues")).json()
        return not body["deliveries"].get("pending")

    await eventually(queue_empty, what="every delivery made")
    await asyncio.sleep(1)
    received = {_id(item.get("object")) for item in await herd.inbox_items()}
    assert ours["iri"] in received
    for unseen in (elsewhere, partners_only, members_only):
        assert unseen["iri"] not in received, (unseen["name"], received)
