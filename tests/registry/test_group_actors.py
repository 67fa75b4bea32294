"""Groups as ActivityPub Group actors: WebFinger, the actor document with its own keys, the
profile page for browsers, the collections, and the key that signs the group's deliveries."""

from __future__ import annotations

import orjson

from federation import keys
from registry.fediverse.group_actors import GroupActors

BASE = "http://registry.test"


async def test_a_group_is_found_by_webfinger_and_has_its_own_actor(federated, group_token) -> None:  # type: ignore[no-untyped-def]
    http, _ = federated
    finger = await http.get(
        "/.well-known/webfinger", params={"resource": "acct:coop-fab@registry.test"}
    )
    assert finger.status_code == 200, finger.text
    assert finger.json()["subject"] == "acct:coop-fab@registry.test"
    assert finger.json()["links"][0]["href"] == f"{BASE}/groups/coop-fab"
    by_iri = await http.get(
        "/.well-known/webfinger", params={"resource": f"{BASE}/groups/coop-fab"}
    )
    assert by_iri.json()["subject"] == "acct:coop-fab@registry.test"
    missing = await http.get(
        "/.well-known/webfinger", params={"resource": "acct:nobody@registry.test"}
    )
    assert missing.status_code == 404

    actor = (
        await http.get("/groups/coop-fab", headers={"accept": "application/activity+json"})
    ).json()
    assert actor["type"] == "Group" and actor["preferredUsername"] == "coop-fab"
    assert actor["publicKey"]["id"] == f"{BASE}/groups/coop-fab#main-key"
    node = (await http.get("/actor", headers={"accept": "application/activity+json"})).json()
    assert actor["publicKey"]["publicKeyPem"] != node["publicKey"]["publicKeyPem"]
    [multikey] = actor["assertionMethod"]
    assert multikey["type"] == "Multikey" and multikey["controller"] == actor["id"]
    assert actor["icon"]["url"].endswith("/static/avatar.png")
    for name in ("outbox", "followers"):
        collection = await http.get(actor[name], headers={"accept": "application/activity+json"})
        assert collection.status_code == 200 and collection.json()["totalItems"] == 0

    # the same key the second time (made once, kept)
    again = (
        await http.get("/groups/coop-fab", headers={"accept": "application/activity+json"})
    ).json()
    assert again["publicKey"]["publicKeyPem"] == actor["publicKey"]["publicKeyPem"]

    page = await http.get("/groups/coop-fab", headers={"accept": "text/html"})
    assert page.status_code == 200 and "@coop-fab@registry.test" in page.text
    assert (await http.get("/groups/nobody")).status_code == 404


async def test_the_group_signs_what_its_actor_sends(federated, group_token, engine) -> None:  # type: ignore[no-untyped-def]
    _, runtime = federated
    groups = GroupActors(engine, runtime.federation.node)
    group = await groups.by_slug("coop-fab")
    assert group is not None
    signer = await groups.signer_for(orjson.dumps({"actor": group.iri, "type": "Accept"}))
    assert signer is not None and signer.key_id == group.key_id
    assert keys.same_public_key(
        signer.private_key.public_key(), group.keys.rsa_private_key.public_key()
    )
    assert await groups.signer_for(orjson.dumps({"actor": f"{BASE}/actor"})) is None


async def test_a_follower_of_a_group_gets_its_assets_only_until_it_undoes(  # type: ignore[no-untyped-def]
    federated, group_token, other_group_token, engine
) -> None:
    from sqlalchemy import func, select

    from registry.core import db
    from registry.core.schema import group_followers
    from tests.registry.test_assets_api import GARDEN
    from tests.registry.test_federation_inbox import post_signed
    from tests.remote_actor import RemoteActor, serving

    http, runtime = federated
    fed = runtime.federation
    group = f"{BASE}/groups/coop-fab"
    async with serving(RemoteActor(name="reader")) as remote:
        follow = remote.activity("Follow", group)
        response = await post_signed(http, remote, follow, "/groups/coop-fab/inbox")
        assert response.status_code == 202, response.text
        assert await fed.processor.run_once() == 1
        await fed.delivery.run_once()
        [accept] = remote.received
        assert accept["type"] == "Accept" and accept["actor"] == group
        assert accept["object"]["id"] == follow["id"]

        for token, name in ((other_group_token, "Not ours"), (group_token, "Ours")):
            created = await http.post(
                "/api/assets",
                json={**GARDEN, "name": name},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert created.status_code == 201, created.text
        await fed.delivery.run_once()
        [create] = remote.received[1:]
        assert create["type"] == "Create" and create["actor"] == group
        assert create["object"]["name"] == "Ours" and create["object"]["attributedTo"] == group
        assert f"{group}/followers" in create["object"]["cc"]
        outbox = await http.get(
            f"{group}/outbox?page=first", headers={"accept": "application/activity+json"}
        )
        assert [a["object"]["name"] for a in outbox.json()["orderedItems"]] == ["Ours"]

        undo = remote.activity("Undo", follow)
        assert (await post_signed(http, remote, undo, "/groups/coop-fab/inbox")).status_code == 202
        await fed.processor.run_once()
        async with db.read(engine) as conn:
            left = (await conn.execute(select(func.count()).select_from(group_followers))).scalar()
        assert left == 0


async def test_the_group_exports_its_actor_key_and_the_export_is_logged(  # type: ignore[no-untyped-def]
    federated, group_token, other_group_token, admin_token
) -> None:
    """The group's own token (or an admin's) gets the key its actor signs with, to keep off
    the node; another group's token sees no such group; nothing is cached on the way."""
    http, _ = federated
    url = "/api/groups/coop-fab/actor-key"
    assert (await http.get(url)).status_code == 401
    refused = await http.get(url, headers={"Authorization": f"Bearer {other_group_token}"})
    assert refused.status_code == 404 and "coop-fab" in refused.json()["detail"]
    response = await http.get(url, headers={"Authorization": f"Bearer {group_token}"})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    held = response.json()
    assert held["type"] == "commons:GroupActorKey" and held["actor"] == f"{BASE}/groups/coop-fab"
    actor = (
        await http.get("/groups/coop-fab", headers={"accept": "application/activity+json"})
    ).json()
    assert held["keyId"] == actor["publicKey"]["id"]
    assert keys.same_public_key(
        keys.public_key_of(keys.load_private_key_pem(held["privateKeyPem"])),
        keys.load_public_key_pem(actor["publicKey"]["publicKeyPem"]),
    )
    log = await http.get("/api/admin/log", headers={"Authorization": f"Bearer {admin_token}"})
    exported = [e for e in log.json()["items"] if e["action"] == "group-key-exported"]
    assert [e["target"] for e in exported] == [f"{BASE}/groups/coop-fab"], log.text
