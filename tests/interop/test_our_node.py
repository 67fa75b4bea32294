"""Our node against independent ActivityPub implementations on 127.0.0.1.

(i)   fediverse-pasture's verify_actor checks our node actor: unsigned POSTs refused, every
      signed variant (key from a public actor, key behind authorized fetch, with and without
      a WebFinger account) accepted, WebFinger looping back to the actor;
(ii)  a bovine-herd actor follows our node, gets an Accept, and receives the Create, Update
      and Delete (with a Tombstone) of an asset a group publishes;
(iii) our node follows the herd actor; after the herd accepts, the Note it publishes to its
      followers reaches our inbox and is recorded, and an activity type we have no handler
      for is recorded and ignored (202, never a 500).

bovine stores what it receives compacted with its own context, so types and properties from
our commons context may come back as full IRIs; the checks below look only at AS2 terms.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.peers import PUBLIC, BovineHerd, PastureVerifier, format_result, is_ideal
from tests.nodes import Node, eventually

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]

ASSET = {
    "name": "Taller de Bicis del Barri",
    "summary": "Community bike workshop: tools & help on Saturdays.",
    "kind": "tool-library",
    "tags": ["bikes", "repair"],
    "location": {"latitude": 41.39, "longitude": 2.17, "locality": "Barcelona", "country": "es"},
}


def _id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _types(value: Any) -> list[str]:
    return [str(t) for t in _list(value)]


def _is_public(value: Any) -> bool:
    return any(_id(v) in (PUBLIC, "as:Public", "Public") for v in _list(value))


async def _inbox(node: Node, kind: str | None = None) -> list[dict[str, Any]]:
    async with node.client() as http:
        response = await http.get("/api/federation/inbox", params={"limit": 500})
    assert response.status_code == 200, response.text
    return [i for i in response.json()["items"] if kind is None or i["type"] == kind]


async def _following_state(node: Node, actor: str) -> str | None:
    async with node.client() as http:
        items = (await http.get("/api/federation/following")).json()["items"]
    return next((i["state"] for i in items if i["actor"] == actor), None)


def _from(node: Node, kind: str):  # type: ignore[no-untyped-def]
    return lambda item: item.get("type") == kind and _id(item.get("actor")) == node.actor


async def test_pasture_verify_actor_finds_our_actor_ideal(
    pasture: PastureVerifier, node_factory
) -> None:
    node = node_factory("pasture")
    result = await pasture.verify(node.actor)
    ok, why = is_ideal(result)
    assert ok, f"{why}\n" + "\n".join(result["messages"][-40:]) + "\n" + node.log()

    # the acct: form goes through our WebFinger first and reaches the same actor
    by_acct = await pasture.verify(f"acct:registry@127.0.0.1:{node.port}", only=["alice", "bob"])
    inner = by_acct["result"]
    assert inner["webfinger"] is True, format_result(by_acct)
    assert inner["alice"] == {"get_actor": True, "post_inbox": False}, format_result(by_acct)
    assert inner["bob"] == {"get_actor": True, "post_inbox": True}, format_result(by_acct)


async def test_herd_follows_our_node_and_receives_asset_changes(
    herd: BovineHerd, node_factory
) -> None:
    node = node_factory("followed")

    follow_id = await herd.follow(node.actor)
    accept = await herd.wait_for_inbox(_from(node, "Accept"), what="our Accept in the herd inbox")
    assert _id(accept["object"]) == follow_id, accept
    await herd.wait_for(
        lambda: _contains(herd.following(), node.actor), what="the herd following our node"
    )
    async with node.client() as http:
        followers = (await http.get("/api/federation/followers")).json()["items"]
    assert [(f["actor"], f["state"]) for f in followers] == [(herd.actor_uri, "accepted")]
    assert herd.actor_uri in node.cli("followers")

    token = node.cli("group", "create", "Bici Coop").split()[-1]
    async with node.client(token) as http:
        response = await http.post("/api/assets", json=ASSET)
        assert response.status_code == 201, response.text
        asset = response.json()

    create = await herd.wait_for_inbox(
        lambda item: _from(node, "Create")(item) and _id(item.get("object")) == asset["iri"],
        what="the Create of our asset in the herd inbox",
    )
    page = create["object"]
    assert isinstance(page, dict), create
    assert "Page" in _types(page["type"]), page
    assert page["name"] == ASSET["name"], page
    # the post is `content` (HTML, escaped): the name linked to the page, and the summary;
    # no `summary`, which servers show as a content warning
    shown = str(page.get("content")) + str(page.get("contentMap"))
    assert f'<a href="{asset["iri"]}">{ASSET["name"]}</a>' in shown, page
    assert "Community bike workshop: tools &amp; help on Saturdays." in shown, page
    assert "summary" not in page, page
    assert _id(page["url"]) == asset["iri"], page
    tags = [t for t in _list(page.get("tag")) if "Hashtag" in str(t.get("type"))]
    assert sorted(t["name"] for t in tags) == ["#bikes", "#repair"], page
    assert all(str(t.get("href", "")).startswith(node.base_url + "/") for t in tags), page
    assert _is_public(create.get("to")), create

    async with node.client(token) as http:
        response = await http.patch(f"/api/assets/{asset['id']}", json={"name": "Bici Taller"})
        assert response.status_code == 200, response.text
    update = await herd.wait_for_inbox(
        lambda item: _from(node, "Update")(item) and _id(item.get("object")) == asset["iri"],
        what="the Update of our asset in the herd inbox",
    )
    assert isinstance(update["object"], dict), update
    assert update["object"]["name"] == "Bici Taller", update
    assert "Page" in _types(update["object"]["type"]), update

    async with node.client(token) as http:
        assert (await http.delete(f"/api/assets/{asset['id']}")).status_code in (200, 204)
    delete = await herd.wait_for_inbox(
        lambda item: _from(node, "Delete")(item) and _id(item.get("object")) == asset["iri"],
        what="the Delete of our asset in the herd inbox",
    )
    tombstone = delete["object"]
    assert isinstance(tombstone, dict) and "Tombstone" in _types(tombstone.get("type")), delete


async def test_our_node_follows_the_herd_and_records_its_note(herd_factory, node_factory) -> None:
    herd: BovineHerd = herd_factory("cowherd")
    node = node_factory("follower")

    node.cli("follow", f"{herd.handle}@127.0.0.1:{herd.port}")
    await herd.wait_for_inbox(
        lambda item: _from(node, "Follow")(item) and _id(item.get("object")) == herd.actor_uri,
        what="our Follow in the herd inbox",
    )
    assert await herd.accept_follows()  # bovine-herd never accepts by itself
    await eventually(
        lambda: _is_accepted(node, herd.actor_uri), what="the herd accepting our follow"
    )
    assert node.actor in await herd.followers()

    create_id = await herd.publish_note("<p>Fresh milk at the commons</p>")

    async def note_arrived() -> list[dict[str, Any]]:
        return [
            i
            for i in await _inbox(node, "Create")
            if i["id"] == create_id and i["state"] != "pending"
        ]

    [create] = await eventually(note_arrived, what="the herd's Create(Note) in our inbox")
    assert create["actor"] == herd.actor_uri
    assert create["state"] in ("done", "ignored"), create

    # A type we have no handler for is stored and ignored, not refused and not a 500.
    listen_id = await herd.send(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": "Listen",
            "actor": herd.actor_uri,
            "object": "https://example.invalid/track/1",
            "to": [node.actor],
        }
    )

    async def listen_recorded() -> list[dict[str, Any]]:
        return [i for i in await _inbox(node) if i["id"] == listen_id and i["state"] != "pending"]

    [listen] = await eventually(listen_recorded, what="the Listen recorded in our inbox")
    assert listen["type"] == "Listen" and listen["state"] == "ignored", listen
    assert not [i for i in await _inbox(node) if i["state"] == "failed"], await _inbox(node)


async def _is_accepted(node: Node, actor: str) -> bool:
    return await _following_state(node, actor) == "accepted"


async def _contains(items_coro, value) -> bool:  # type: ignore[no-untyped-def]
    return value in await items_coro
