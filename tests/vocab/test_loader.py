"""The offline document loader: bundled contexts only, no network, unknown contexts refused."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pyld import jsonld

import vocab
from vocab import loader

AS = "https://www.w3.org/ns/activitystreams#"
SEC = "https://w3id.org/security#"
ALL_BUNDLED = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    "https://w3id.org/security/v2",
    "https://w3id.org/security/multikey/v1",
    "https://w3id.org/security/data-integrity/v1",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/commons-registry/context.jsonld",
]


@pytest.fixture(autouse=True)
def cold_cache() -> None:
    """Start each test with pyld's shared context cache empty, so the loader is really asked."""
    with loader.LOCK:
        jsonld._resolved_context_cache.clear()


def test_every_bundled_context_expands_with_the_network_off(no_network: list[str]) -> None:
    assert set(loader.BUNDLED) == set(ALL_BUNDLED)
    actor = {
        "@context": ALL_BUNDLED[:4],
        "id": "https://node.example/actor",
        "type": "Application",
        "name": "Node",
        "publicKey": {
            "id": "https://node.example/actor#main-key",
            "owner": "https://node.example/actor",
            "publicKeyPem": "PEM",
        },
        "assertionMethod": [
            {
                "id": "https://node.example/actor#ed",
                "type": "Multikey",
                "controller": "https://node.example/actor",
                "publicKeyMultibase": "z6Mk",
            }
        ],
    }
    expanded = vocab.expand(actor)[0]
    assert expanded["@type"] == [AS + "Application"]
    assert expanded[SEC + "publicKey"][0][SEC + "publicKeyPem"] == [{"@value": "PEM"}]
    proof = {
        "@context": [ALL_BUNDLED[0], ALL_BUNDLED[5]],
        "id": "https://node.example/assets/1",
        "type": "Note",
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "proofPurpose": "assertionMethod",
            "proofValue": "z3x",
            "verificationMethod": "https://node.example/actor#ed",
            "created": "2025-01-01T00:00:00Z",
        },
    }
    graph = vocab.expand(proof)[0][SEC + "proof"][0]["@graph"][0]
    assert graph["@type"] == [SEC + "DataIntegrityProof"]
    assert graph[SEC + "cryptosuite"] == [
        {"@value": "eddsa-jcs-2022", "@type": SEC + "cryptosuiteString"}
    ]
    assert graph[SEC + "proofPurpose"] == [{"@id": SEC + "assertionMethod"}]
    v1 = {**proof, "@context": [ALL_BUNDLED[0], ALL_BUNDLED[4]]}
    assert vocab.expand(v1)[0][SEC + "proof"]
    commons = {
        "@context": ALL_BUNDLED[-1],
        "id": "https://n.example/a",
        "name": "x",
        "assetKind": "https://w3id.org/commons-registry/vocab/kinds/fablab",
    }
    assert vocab.expand(commons)[0]["http://purl.org/dc/terms/type"]
    nquads = vocab.to_rdf(commons)
    assert "<https://n.example/a> <http://purl.org/dc/terms/type> " in nquads
    assert no_network == []


def test_an_unknown_context_is_refused_by_name_without_a_fetch(no_network: list[str]) -> None:
    doc = {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://evil.example/context.jsonld",
        ],
        "name": "x",
    }
    with pytest.raises(vocab.ContextNotAllowed) as caught:
        vocab.expand(doc)
    assert caught.value.url == "https://evil.example/context.jsonld"
    assert "https://evil.example/context.jsonld" in str(caught.value)
    assert isinstance(caught.value, jsonld.JsonLdError)
    for call in (lambda: vocab.compact(doc, {}), lambda: vocab.to_rdf(doc)):
        with pytest.raises(vocab.ContextNotAllowed):
            call()
    # even pyld's own default loader (for code that forgets to pass ours) refuses it
    assert jsonld.get_document_loader() is loader.document_loader
    with pytest.raises(jsonld.JsonLdError):
        jsonld.expand(doc)
    assert no_network == []


def test_bundled_documents_are_tagged_static_and_cached() -> None:
    remote = loader.document_loader("https://w3id.org/security/v1", {})
    assert remote["tag"] == "static"
    assert remote["documentUrl"] == "https://w3id.org/security/v1"
    calls: list[str] = []

    def counting(url: str, options: dict[str, Any]) -> dict[str, Any]:
        calls.append(url)
        return loader.document_loader(url, options)

    doc = {"@context": "https://www.w3.org/ns/activitystreams", "name": "x"}
    for _ in range(5):
        jsonld.expand(doc, {"documentLoader": counting})
    assert calls == ["https://www.w3.org/ns/activitystreams"]


def test_extra_allowed_documents_stay_with_the_call_that_allows_them(no_network: list[str]) -> None:
    url = "https://partner.example/ns/extension.jsonld"
    extra = {url: {"@context": {"ext": "https://partner.example/ns#", "rating": "ext:rating"}}}
    doc = {"@context": [vocab.AS_CONTEXT, url], "id": "https://p.example/1", "rating": 5}
    assert vocab.expand(doc, extra_allowed=extra)[0]["https://partner.example/ns#rating"]
    assert vocab.expand(doc, extra_allowed=extra)  # served again, not from the shared cache
    with pytest.raises(vocab.ContextNotAllowed):
        vocab.expand(doc)  # no leak into calls without the extension
    assert no_network == []


def test_the_security_contexts_match_the_published_shape() -> None:
    multikey = loader.BUNDLED["https://w3id.org/security/multikey/v1"]["@context"]
    assert multikey["@protected"] is True
    inner = multikey["Multikey"]["@context"]
    assert set(inner) == {
        "@protected",
        "id",
        "type",
        "controller",
        "revoked",
        "expires",
        "publicKeyMultibase",
        "secretKeyMultibase",
    }
    assert inner["publicKeyMultibase"] == {
        "@id": SEC + "publicKeyMultibase",
        "@type": SEC + "multibase",
    }
    for version, suite_type in (("v1", None), ("v2", SEC + "cryptosuiteString")):
        ctx = loader.BUNDLED[f"https://w3id.org/security/data-integrity/{version}"]["@context"]
        assert ctx["proof"] == {"@id": SEC + "proof", "@type": "@id", "@container": "@graph"}
        terms = ctx["DataIntegrityProof"]["@context"]
        assert ("previousProof" in terms) == (version == "v2")
        cryptosuite = terms["cryptosuite"]
        assert (cryptosuite.get("@type") if isinstance(cryptosuite, dict) else None) == suite_type
        assert set(terms["proofPurpose"]["@context"]) >= {
            "assertionMethod",
            "authentication",
            "capabilityInvocation",
            "capabilityDelegation",
            "keyAgreement",
        }


def test_concurrent_calls_are_serialised_by_the_lock() -> None:
    errors: list[BaseException] = []
    docs = [
        {"@context": [vocab.AS_CONTEXT, {f"t{i}": f"https://x.example/{i}"}], f"t{i}": i}
        for i in range(40)
    ]

    def work(offset: int) -> None:
        try:
            for doc in docs[offset:] + docs[:offset]:
                vocab.expand(doc)
                vocab.compact(doc, vocab.ASSET_CONTEXT)
        except Exception as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i * 5,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
