"""Our node as Fedify (1.5.9, TypeScript) and jsonld.js (8.3.3, safe mode) see it.

(i)   Fedify looks the node up by handle and by URL and parses every object type we serve
      without a warning;
(ii)  Fedify's `verifyObject` verifies the FEP-8b32 proof on every asset document, and on the
      copy a partner node serves; a tampered copy fails;
(iii) jsonld.js canonicalises every document type in safe mode (any term that would expand
      to a blank-node predicate, or be dropped, is an error there), and pyld expands each
      with no blank-node predicate;
(iv)  a Fedify actor follows the node, gets a signed Accept, and receives the Create, Update
      and Delete of an asset, each verified by Fedify's inbox; the Create's post has the
      asset's name and link in `content`, a language, and a proof Fedify verifies;
(v)   our verifier accepts a proof Fedify made, and our inbox accepts Fedify's signatures.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

import vocab
from federation import proofs
from tests.interop.fedify_peer import FedifyPeer
from tests.jsonld_checks import blank_predicates
from tests.nodes import Node, eventually

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]

AS_JSON = {"Accept": "application/activity+json"}
LD_JSON = {"Accept": "application/ld+json"}

ASSETS = [
    {
        "name": "Taller de Bicis del Barri",
        "summary": "Community bike workshop: tools & help on <Saturdays>.",
        "kind": "tool-library",
        "tags": ["bikes", "repair"],
        "location": {
            "latitude": 41.39,
            "longitude": 2.17,
            "locality": "Barcelona",
            "country": "es",
        },
    },
    {"name": "Jardí Comunitari", "kind": "community-garden"},
    {
        "name": "Fab Lab Poblenou",
        "kind": "fablab",
        "summary": "Open on weekdays.",
        "tags": ["fablab"],
        "location": {"latitude": 41.3965, "longitude": 2.1943, "country": "ES"},
    },
]


async def _token(node: Node) -> str:
    return node.cli("group", "create", "Coop Fedify").split()[-1]


async def _create(node: Node, token: str, body: dict[str, Any]) -> dict[str, Any]:
    async with node.client(token) as http:
        response = await http.post("/api/assets", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def _get_json(node: Node, path: str, headers: dict[str, str] = AS_JSON) -> Any:
    async with node.client() as http:
        response = await http.get(path, headers=headers)
    assert response.status_code in (200, 410), f"{path}: {response.status_code} {response.text}"
    return response.json()


@pytest.fixture
def node(node_factory) -> Node:  # type: ignore[no-untyped-def]
    return node_factory("fedify")


async def test_fedify_finds_the_node_by_handle_and_by_url(fedify: FedifyPeer, node: Node) -> None:
    host = node.base_url.removeprefix("http://")
    for identifier in (f"@registry@{host}", f"acct:registry@{host}", node.actor):
        found = await fedify.lookup(identifier)
        assert found["found"], f"{identifier}: not found\n{fedify.log_tail()}"
        assert found["object"]["type"] == "Application"
        assert found["object"]["id"] == node.actor
        assert found["warnings"] == [], found["warnings"]


async def test_fedify_verifies_the_proof_on_every_asset_document(
    fedify: FedifyPeer, node: Node
) -> None:
    token = await _token(node)
    for body in ASSETS:
        made = await _create(node, token, body)
        document = await _get_json(node, made["iri"].removeprefix(node.base_url))
        result = await fedify.verify(document)
        assert result == {"proofs": 1, "parsedProofs": 1, "verified": True}, (
            f"{body['name']}: {result}\n{fedify.log_tail()}"
        )
        # the same document, altered by one character, fails
        forged = copy.deepcopy(document)
        forged["name"] = forged["name"] + "!"
        assert (await fedify.verify(forged))["verified"] is False
        # and the proof's own terms are read (not dropped as blank-node properties)
        assert blank_predicates(vocab.expand(document)) == []


async def test_fedify_verifies_the_proof_on_a_copy_a_partner_serves(
    fedify: FedifyPeer, node_factory
) -> None:
    origin, partner = node_factory("origin"), node_factory("partner")
    partner.cli("partner", "add", origin.base_url)
    origin.cli("partner", "add", partner.base_url)

    async def accepted() -> bool:
        return "\taccepted\t" in partner.cli("partner", "list")

    await eventually(accepted, timeout=60, what="the partnership accepted")
    token = await _token(origin)
    made = {(await _create(origin, token, body))["iri"] for body in ASSETS}
    async with origin.client(token) as http:  # an edited asset: its copy carries the new proof
        first = sorted(made)[0].rsplit("/", 1)[-1]
        assert (await http.patch(f"/api/assets/{first}", json={"summary": "Edited"})).is_success

    async def mirrored() -> list[dict[str, Any]]:
        async with partner.client() as http:
            found = await http.get("/api/assets", params={"origin": "mirrored"})
        items = [i for i in found.json()["items"] if i["iri"] in made]
        edited = any(i.get("summary") == "Edited" for i in items)
        return items if len(items) == len(made) and edited else []

    items = await eventually(mirrored, timeout=60, what="the partner mirroring every asset")
    for item in items:
        served = await _get_json(partner, item["links"]["jsonld"].removeprefix(partner.base_url))
        assert served["id"] == item["iri"]
        assert served["proof"]["verificationMethod"] == f"{origin.actor}#ed25519-key"
        result = await fedify.verify(served)
        assert result == {"proofs": 1, "parsedProofs": 1, "verified": True}, (item, result)


async def test_jsonld_safe_mode_and_pyld_read_every_document_type(
    fedify: FedifyPeer, node: Node
) -> None:
    token = await _token(node)
    made = [await _create(node, token, body) for body in ASSETS]
    async with node.client(token) as http:
        assert (await http.delete(f"/api/assets/{made[1]['id']}")).status_code == 204
    outbox = await _get_json(node, "/actor/outbox")
    first_page = await _get_json(node, outbox["first"].removeprefix(node.base_url))
    activity_ids = [
        item["id"] if isinstance(item, dict) else item for item in first_page["orderedItems"]
    ]
    documents: dict[str, Any] = {
        "actor": await _get_json(node, "/actor"),
        "asset": await _get_json(node, made[0]["iri"].removeprefix(node.base_url)),
        "asset without place": await _get_json(node, made[2]["iri"].removeprefix(node.base_url)),
        "tombstone": await _get_json(node, made[1]["iri"].removeprefix(node.base_url)),
        "outbox": outbox,
        "outbox page": first_page,
        "followers": await _get_json(node, "/actor/followers"),
        "following": await _get_json(node, "/actor/following"),
        "featured": await _get_json(node, "/actor/featured"),
        "featured tags": await _get_json(node, "/actor/tags"),
        "concept scheme": await _get_json(node, "/vocab/kinds", LD_JSON),
        "concept": await _get_json(node, "/vocab/kinds/fablab", LD_JSON),
        "catalog": await _get_json(node, "/dcat/catalog.jsonld", LD_JSON),
    }
    for activity_id in activity_ids:
        activity = await _get_json(node, activity_id.removeprefix(node.base_url))
        documents[f"activity {activity['type']}"] = activity
    assert {"activity Create", "activity Delete"} <= set(documents), sorted(documents)

    failures = []
    for name, document in documents.items():
        canonical = await fedify.canonize(document)
        if "error" in canonical:
            failures.append(f"{name}: jsonld.js safe mode: {canonical['error']}")
        elif not canonical["nquads"].strip():
            failures.append(f"{name}: no quads")
        blank = blank_predicates(vocab.expand(document))
        if blank:
            failures.append(f"{name}: pyld blank-node predicates {blank}")
    assert not failures, "\n".join(failures)


async def test_fedify_parses_every_activitystreams_document_without_warnings(
    fedify: FedifyPeer, node: Node
) -> None:
    token = await _token(node)
    made = [await _create(node, token, body) for body in ASSETS[:2]]
    async with node.client(token) as http:
        assert (await http.delete(f"/api/assets/{made[1]['id']}")).status_code == 204
    expected = {
        "/actor": "Application",
        made[0]["iri"].removeprefix(node.base_url): "Page",
        made[1]["iri"].removeprefix(node.base_url): "Tombstone",
        "/actor/outbox": "OrderedCollection",
        "/actor/followers": "OrderedCollection",
        "/actor/following": "OrderedCollection",
        "/actor/featured": "OrderedCollection",
        "/actor/tags": "Collection",
    }
    outbox = await _get_json(node, "/actor/outbox")
    first_page = await _get_json(node, outbox["first"].removeprefix(node.base_url))
    for item in first_page["orderedItems"]:
        activity_id = item["id"] if isinstance(item, dict) else item
        activity = await _get_json(node, activity_id.removeprefix(node.base_url))
        expected[activity_id.removeprefix(node.base_url)] = activity["type"]
    assert {"Create", "Delete"} <= set(expected.values())
    for path, kind in expected.items():
        parsed = await fedify.parse(await _get_json(node, path))
        assert "error" not in parsed, f"{path}: {parsed}"
        assert parsed["object"]["type"] == kind, f"{path}: {parsed['object']['type']}"
        assert parsed["warnings"] == [], f"{path}: {parsed['warnings']}"


async def test_our_verifier_accepts_a_proof_fedify_made(fedify: FedifyPeer) -> None:
    signed = await fedify.sign("Hello from Fedify")
    jwk = signed["publicKeyJwk"]
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    document = signed["document"]
    assert proofs.verification_method(document) == signed["keyId"]
    assert proofs.verify_object(document, key) is True
    forged = {**document, "content": "Hello from someone else"}
    with pytest.raises(proofs.ProofError):
        proofs.verify_object(forged, key)


async def test_a_fedify_follower_receives_readable_verified_posts(
    fedify: FedifyPeer, node: Node
) -> None:
    host = node.base_url.removeprefix("http://")
    followed = await fedify.follow(f"@registry@{host}")
    assert followed.get("target") == node.actor, followed
    # our node verified Fedify's signed Follow and answered with a signed Accept, which
    # Fedify's inbox verified before handing it over
    accept = await fedify.wait_for_inbox(
        lambda a: a["type"] == "Accept" and a["actor"] == node.actor, what="Accept"
    )
    assert accept["signature"] == "draft-cavage"

    async def following() -> bool:
        async with node.client() as http:
            items = (await http.get("/api/federation/followers")).json()["items"]
        return any(i.get("actor") == fedify.actor_uri for i in items)

    await eventually(following, timeout=20, what="Fedify among the followers")

    token = await _token(node)
    made = await _create(node, token, ASSETS[0])
    create = await fedify.wait_for_inbox(
        lambda a: a["type"] == "Create" and (a["object"] or {}).get("id") == made["iri"],
        what="the Create",
    )
    post = create["object"]
    assert post["type"] == "Page"
    assert create["signature"] == "draft-cavage"
    assert create["objectProof"] == {"proofs": 1, "parsedProofs": 1, "verified": True}
    # what a server that shows `content` shows: the name, linked to the page, and the summary
    content = post["content"] if isinstance(post["content"], str) else post["content"]["value"]
    assert f'<a href="{made["iri"]}">{ASSETS[0]["name"]}</a>' in content, content
    assert "tools &amp; help on &lt;Saturdays&gt;." in content, content
    assert "#<span>bikes</span>" in content
    languages = {c["language"] for c in post["contents"] if isinstance(c, dict)}
    assert languages == {"en"}, post["contents"]
    assert post["summary"] is None  # no content warning over the post
    assert post["updated"] is None  # not "edited" from the start

    async with node.client(token) as http:
        changed = await http.patch(f"/api/assets/{made['id']}", json={"name": "Bici Taller"})
        assert changed.status_code == 200, changed.text
    update = await fedify.wait_for_inbox(
        lambda a: a["type"] == "Update" and (a["object"] or {}).get("id") == made["iri"],
        what="the Update",
    )
    assert update["object"]["name"] == "Bici Taller"
    assert update["object"]["updated"] is not None
    assert update["objectProof"]["verified"] is True

    async with node.client(token) as http:
        assert (await http.delete(f"/api/assets/{made['id']}")).status_code == 204
    delete = await fedify.wait_for_inbox(
        lambda a: a["type"] == "Delete" and a["actor"] == node.actor, what="the Delete"
    )
    assert delete["object"]["type"] == "Tombstone"
    assert delete["object"]["id"] == made["iri"]
