import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from federation import activities, documents, keys
from federation.keys import NodeKeys

BASE = "https://registry.example"
ACTOR = f"{BASE}/actor"


@pytest.fixture(scope="module")
def node_keys() -> NodeKeys:
    return NodeKeys.generate()


def test_actor_document_is_what_mastodon_needs(node_keys: NodeKeys) -> None:
    doc = documents.actor_document(
        actor_iri=ACTOR,
        preferred_username="registry",
        name="Commons registry",
        summary="Assets of the commons",
        rsa_public_pem=node_keys.rsa_public_pem,
        ed25519_multikey=node_keys.ed25519_multikey,
        icon=f"{BASE}/icon.png",
        published=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    assert doc["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert doc["type"] == "Application" and doc["preferredUsername"] == "registry"
    assert doc["inbox"] == f"{ACTOR}/inbox" and doc["endpoints"]["sharedInbox"] == f"{ACTOR}/inbox"
    assert doc["publicKey"] == {
        "id": f"{ACTOR}#main-key",
        "owner": ACTOR,
        "publicKeyPem": node_keys.rsa_public_pem,
    }
    assert doc["assertionMethod"][0]["type"] == "Multikey"
    assert doc["icon"] == {"type": "Image", "url": f"{BASE}/icon.png"}
    assert doc["published"] == "2026-01-02T03:04:05Z"
    assert (doc["discoverable"], doc["indexable"], doc["manuallyApprovesFollowers"]) == (
        True,
        True,
        False,
    )
    extras = doc["@context"][-1]
    assert extras["indexable"] == "toot:indexable"
    assert extras["manuallyApprovesFollowers"] == "as:manuallyApprovesFollowers"
    # What we publish is what our own key reader finds.
    found = {info.key_id for info in keys.keys_from_actor(doc)}
    assert found == {f"{ACTOR}#main-key", f"{ACTOR}#ed25519-key"}


def test_webfinger_jrd() -> None:
    jrd = documents.webfinger_jrd("acct:registry@registry.example", [ACTOR], ACTOR, f"{BASE}/")
    assert jrd["subject"] == "acct:registry@registry.example"
    assert {"rel": "self", "type": "application/activity+json", "href": ACTOR} in jrd["links"]
    assert jrd["links"][-1]["rel"] == "http://webfinger.net/rel/profile-page"
    server = documents.webfinger_jrd(f"{BASE}/", [], ACTOR, server_actor=True)
    assert any(link["rel"].endswith("#Service") for link in server["links"])


def test_nodeinfo() -> None:
    links = documents.nodeinfo_links(BASE + "/", ACTOR)["links"]
    assert links[0] == {
        "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
        "href": f"{BASE}/nodeinfo/2.1",
    }
    assert links[1] == {"rel": "https://www.w3.org/ns/activitystreams#Application", "href": ACTOR}
    doc = documents.nodeinfo_document(
        "commons-registry",
        "0.1.0",
        "https://git.example/cr",
        None,
        {"users": {"total": 3}, "localPosts": 12},
        False,
        {"nodeName": "Ajuntament"},
    )
    assert doc["version"] == "2.1" and doc["protocols"] == ["activitypub"]
    assert doc["software"] == {
        "name": "commons-registry",
        "version": "0.1.0",
        "repository": "https://git.example/cr",
    }
    assert doc["usage"] == {"users": {"total": 3}, "localPosts": 12}
    assert doc["openRegistrations"] is False and doc["metadata"] == {"nodeName": "Ajuntament"}
    with pytest.raises(ValueError, match="a-z0-9"):
        documents.nodeinfo_document("Commons Registry", "0.1.0")


def test_host_meta() -> None:
    root = ET.fromstring(documents.host_meta_xml(BASE + "/"))
    link = root.find("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")
    assert link is not None and link.get("rel") == "lrdd"
    assert link.get("template") == f"{BASE}/.well-known/webfinger?resource={{uri}}"
    assert 'template="https://a.example/?x=1&amp;y' in documents.host_meta_xml(
        "https://a.example/?x=1&y"
    )


def test_collections() -> None:
    assert documents.ordered_collection(f"{ACTOR}/outbox", 12, f"{ACTOR}/outbox?page=1") == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{ACTOR}/outbox",
        "type": "OrderedCollection",
        "totalItems": 12,
        "first": f"{ACTOR}/outbox?page=1",
    }
    page = documents.ordered_collection_page(
        f"{ACTOR}/outbox?page=1", f"{ACTOR}/outbox", [1, 2], next=f"{ACTOR}/outbox?page=2"
    )
    assert page["type"] == "OrderedCollectionPage" and page["orderedItems"] == [1, 2]
    assert page["partOf"] == f"{ACTOR}/outbox" and "prev" not in page


def test_create_update_delete_announce() -> None:
    asset = {"id": f"{BASE}/assets/1", "type": "Page", "name": "Fab Lab"}
    made = activities.create(
        id=f"{BASE}/activities/1", actor=ACTOR, object=asset, cc=[f"{ACTOR}/followers"]
    )
    assert made["type"] == "Create" and made["object"] == asset and made["actor"] == ACTOR
    assert made["to"] == [documents.PUBLIC] and made["cc"] == [f"{ACTOR}/followers"]
    assert made["published"].endswith("Z") and made["@context"] == documents.AS_CONTEXT
    changed = activities.update(
        id=f"{BASE}/activities/2",
        actor=ACTOR,
        object=asset,
        context=[documents.AS_CONTEXT, {"x": "y"}],
    )
    assert changed["type"] == "Update" and changed["@context"][1] == {"x": "y"}
    gone = activities.delete(
        id=f"{BASE}/activities/3", actor=ACTOR, object_iri=asset["id"], former_type="Page"
    )
    assert gone["object"]["type"] == "Tombstone" and gone["object"]["formerType"] == "as:Page"
    assert gone["object"]["id"] == asset["id"] and gone["object"]["deleted"].endswith("Z")
    shared = activities.announce(
        id=f"{BASE}/activities/4", actor=ACTOR, object="https://peer.example/assets/9"
    )
    assert shared["object"] == "https://peer.example/assets/9"


def test_follow_accept_reject_undo() -> None:
    peer = "https://peer.example/actor"
    follow = activities.follow(id=f"{BASE}/follows/1", actor=ACTOR, object=peer)
    assert follow["to"] == [peer] and follow["object"] == peer
    incoming = {"id": "https://peer.example/f/9", "type": "Follow", "actor": peer, "object": ACTOR}
    accepted = activities.accept(id=f"{BASE}/accepts/1", actor=ACTOR, object=incoming)
    assert accepted["object"] == incoming and accepted["to"] == [peer]
    rejected = activities.reject(id=f"{BASE}/rejects/1", actor=ACTOR, object=incoming)
    assert rejected["type"] == "Reject" and rejected["to"] == [peer]
    undone = activities.undo(id=f"{BASE}/undo/1", actor=ACTOR, object=follow)
    assert undone["object"]["type"] == "Follow" and undone["to"] == [peer]
    assert activities.object_id(incoming) == incoming["id"] and activities.object_id(peer) == peer
