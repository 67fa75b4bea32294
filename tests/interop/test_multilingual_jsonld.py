"""An asset's texts per language as independent JSON-LD readers see them: jsonld.js (safe
mode, through the Fedify peer) and rdflib both get one language-tagged literal per language
for the name (as:name), summary (dct:abstract), description (dct:description) and the post
(as:content), beside the untagged text."""

from __future__ import annotations

import json

import pytest
import rdflib

import vocab
from tests.interop.fedify_peer import FedifyPeer
from tests.interop.test_fedify import _create, _get_json, _token
from tests.nodes import Node

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]

AS = "https://www.w3.org/ns/activitystreams#"
DCT = "http://purl.org/dc/terms/"
CA, ES = "Biblioteca d'eines de Gràcia", "Biblioteca de herramientas de Gràcia"
ASSET = {
    "name": CA,
    "kind": "tool-library",
    "name_map": {"ca": CA, "es": ES},
    "summary_map": {"ca": "Eines en préstec", "es": "Herramientas en préstamo"},
    "description_map": {"es": "Taladros y sierras."},
}


@pytest.fixture
def node(node_factory) -> Node:  # type: ignore[no-untyped-def]
    return node_factory("languages")


async def test_jsonld_js_and_rdflib_read_a_literal_per_language(
    fedify: FedifyPeer, node: Node
) -> None:
    made = await _create(node, await _token(node), ASSET)
    document = await _get_json(node, made["iri"].removeprefix(node.base_url))
    canonical = await fedify.canonize(document)
    assert "error" not in canonical, canonical
    subject = f"<{made['iri']}>"
    quads = {line for line in canonical["nquads"].splitlines() if line.startswith(subject)}

    def tagged(prop: str, text: str, lang: str) -> bool:
        return f"{subject} <{prop}> {json.dumps(text, ensure_ascii=False)}@{lang} ." in quads

    assert tagged(AS + "name", CA, "ca") and tagged(AS + "name", ES, "es")
    assert f"{subject} <{AS}name> {json.dumps(CA, ensure_ascii=False)} ." in quads  # untagged
    assert tagged(DCT + "abstract", "Eines en préstec", "ca")
    assert tagged(DCT + "abstract", "Herramientas en préstamo", "es")
    assert tagged(DCT + "description", "Taladros y sierras.", "es")
    contents = [q for q in quads if q.startswith(f"{subject} <{AS}content> ")]
    assert {q.rsplit("@", 1)[-1] for q in contents if '"@' in q} == {"ca .", "es ."}

    # rdflib on pyld's offline expansion (rdflib alone would fetch the AS context)
    graph = rdflib.Graph().parse(data=json.dumps(vocab.expand(document)), format="json-ld")
    names = set(graph.objects(rdflib.URIRef(made["iri"]), rdflib.URIRef(AS + "name")))
    assert names == {
        rdflib.Literal(CA),
        rdflib.Literal(CA, lang="ca"),
        rdflib.Literal(ES, lang="es"),
    }
