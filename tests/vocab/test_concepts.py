"""The four SKOS concept schemes, loaded from package data."""

from __future__ import annotations

import pytest

import vocab
from vocab import concepts

SKOS = "http://www.w3.org/2004/02/skos/core#"
BASE = "https://w3id.org/commons-registry/vocab"
LANGUAGES = {"en", "es", "ca", "fr", "de", "it"}

# Every external match in the schemes, and how it was checked before it was written down.
# Anything not verified was left out rather than guessed.
VERIFIED_MATCHES = {
    # wbsearchentities answer: Q4539 "società cooperativa" (cooperative)
    "http://www.wikidata.org/entity/Q4539",
    # a Wikidata import script that re-checked labels and instance counts: community land trust
    "http://www.wikidata.org/entity/Q3278937",
    # several independent uses labelled "dataset" / "open data"
    "http://www.wikidata.org/entity/Q1172284",
    "http://www.wikidata.org/entity/Q309901",
    # ESSGlobal organisational-structure SKOS file: OS100 "Multi-stakeholder co-operative"
    "http://purl.org/essglobal/standard/organisational-structure/OS100",
}


def test_scheme_names_and_slugs() -> None:
    assert vocab.SCHEMES == ("kinds", "ownership", "governance", "status")
    assert vocab.slugs("kinds") == [
        "community-land-trust",
        "open-hardware",
        "fablab",
        "tool-library",
        "community-garden",
        "cooperative",
        "open-dataset",
        "other",
    ]
    assert vocab.slugs("ownership") == [
        "public",
        "community-land-trust",
        "cooperative",
        "commons",
        "public-commons-partnership",
        "private-for-benefit",
    ]
    assert 6 <= len(vocab.slugs("governance")) <= 8
    assert {"municipal", "member-democracy", "multi-stakeholder"} <= set(vocab.slugs("governance"))
    assert vocab.slugs("status") == ["planned", "active", "closed"]


@pytest.mark.parametrize("name", concepts.SCHEMES)
def test_every_concept_is_complete(name: str) -> None:
    scheme = vocab.scheme(name)
    assert scheme.iri == f"{BASE}/{name}"
    assert set(scheme.labels) == LANGUAGES
    for concept in scheme.concepts:
        assert concept.iri == f"{BASE}/{name}/{concept.slug}"
        assert set(concept.labels) == LANGUAGES, concept.slug
        assert set(concept.definitions) == LANGUAGES, concept.slug
        assert all(
            text.strip() for text in (*concept.labels.values(), *concept.definitions.values())
        )
        for match in (*concept.exact_match, *concept.close_match, *concept.broad_match):
            assert match in VERIFIED_MATCHES, (concept.iri, match)


def test_lookups() -> None:
    fablab = vocab.concept("kinds", "fablab")
    assert fablab is not None
    assert vocab.concept_by_iri(f"{BASE}/kinds/fablab") is fablab
    assert vocab.concept("kinds", "castle") is None
    assert vocab.concept("nope", "fablab") is None
    assert vocab.concept_by_iri("https://example.org/x") is None
    with pytest.raises(KeyError):
        vocab.scheme("nope")
    assert vocab.concept_iri("status", "active") == f"{BASE}/status/active"


def test_labels_fall_back_to_english() -> None:
    assert vocab.label("kinds", "community-garden") == "Community garden"
    assert vocab.label("kinds", "community-garden", "de") == "Gemeinschaftsgarten"
    assert vocab.label("kinds", "community-garden", "es-AR") == "Huerto comunitario"
    assert vocab.label("kinds", "community-garden", "ja") == "Community garden"
    assert vocab.label("kinds", "castle") is None


def test_documents_are_valid_skos(no_network: list[str]) -> None:
    for name in vocab.SCHEMES:
        doc = vocab.scheme_document(name)
        nquads = vocab.to_rdf(doc)
        scheme_iri = f"{BASE}/{name}"
        assert (
            f"<{scheme_iri}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
            f"<{SKOS}ConceptScheme>" in nquads
        )
        for concept in vocab.scheme(name).concepts:
            iri = concept.iri
            assert f"<{iri}> <{SKOS}inScheme> <{scheme_iri}>" in nquads
            assert f'<{iri}> <{SKOS}notation> "{concept.slug}"' in nquads
            for lang in LANGUAGES:
                label = concept.labels[lang]
                assert f'<{iri}> <{SKOS}prefLabel> "{label}"@{lang} .' in nquads
                assert f"<{iri}> <{SKOS}definition> " in nquads
    one = vocab.concept_document("kinds", "cooperative")
    assert one is not None and one["id"] == f"{BASE}/kinds/cooperative"
    expanded = vocab.expand(one)[0]
    assert expanded[SKOS + "exactMatch"] == [{"@id": "http://www.wikidata.org/entity/Q4539"}]
    assert vocab.concept_document("kinds", "castle") is None


def test_documents_are_fresh_copies() -> None:
    doc = vocab.scheme_document("status")
    doc["hasTopConcept"].clear()
    assert vocab.scheme_document("status")["hasTopConcept"]
