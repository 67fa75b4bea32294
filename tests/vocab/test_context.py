"""The commons context: AS first, inline terms from existing vocabularies, no AS term redefined."""

from __future__ import annotations

import pytest

import vocab
from vocab import bundled_contexts, loader
from vocab.context import COMMONS_TERMS, PREFIXES

AS_TERMS = loader.BUNDLED[vocab.AS_CONTEXT]["@context"]


def test_the_asset_context_is_activitystreams_data_integrity_then_inline_terms() -> None:
    assert vocab.AS_CONTEXT == "https://www.w3.org/ns/activitystreams"
    assert vocab.COMMONS_NS == "https://w3id.org/commons-registry/ns#"
    assert vocab.ASSET_CONTEXT[0] == vocab.AS_CONTEXT
    assert vocab.ASSET_CONTEXT[1] == "https://w3id.org/security/data-integrity/v2"
    assert vocab.ASSET_CONTEXT[2] is COMMONS_TERMS
    assert all(isinstance(v, (str, dict, float)) for v in COMMONS_TERMS.values())


def test_no_inline_term_redefines_an_activitystreams_or_data_integrity_term() -> None:
    assert sorted(set(COMMONS_TERMS) & set(AS_TERMS)) == []
    di_terms = loader.BUNDLED[bundled_contexts.DATA_INTEGRITY_V2]["@context"]
    assert sorted(set(COMMONS_TERMS) & set(di_terms)) == []
    assert "Hashtag" not in AS_TERMS  # which is why we define it


def _expanded_term(term: str) -> str:
    doc = {"@context": vocab.ASSET_CONTEXT, "id": "https://x.example/1", term: "x"}
    node = vocab.expand(doc)[0]
    keys = [k for k in node if not k.startswith("@")]
    assert len(keys) == 1, (term, node)
    return keys[0]


def test_only_the_models_and_the_asset_class_are_in_our_namespace() -> None:
    ours = []
    for term, definition in COMMONS_TERMS.items():
        iri = definition["@id"] if isinstance(definition, dict) else definition
        if isinstance(iri, str) and iri.startswith("commons:") and term != "commons":
            ours.append(term)
    assert sorted(ours) == ["governanceModel", "ownershipModel"]
    doc = {
        "@context": vocab.ASSET_CONTEXT,
        "id": "https://x.example/1",
        "type": "commons:CommonsAsset",
    }
    assert vocab.expand(doc)[0]["@type"] == [vocab.COMMONS_NS + "CommonsAsset"]


@pytest.mark.parametrize(
    ("term", "iri"),
    [
        ("assetKind", "http://purl.org/dc/terms/type"),
        ("ownershipModel", "https://w3id.org/commons-registry/ns#ownershipModel"),
        ("governanceModel", "https://w3id.org/commons-registry/ns#governanceModel"),
        ("lifecycleStatus", "http://www.w3.org/ns/adms#status"),
        ("steward", "https://w3id.org/valueflows/ont/vf#primaryAccountable"),
        ("license", "http://purl.org/dc/terms/license"),
        ("accessRights", "http://purl.org/dc/terms/accessRights"),
        ("identifier", "http://purl.org/dc/terms/identifier"),
        ("modified", "http://purl.org/dc/terms/modified"),
        ("keywords", "http://www.w3.org/ns/dcat#keyword"),
        ("geometry", "http://www.w3.org/ns/locn#geometry"),
        ("wasDerivedFrom", "http://www.w3.org/ns/prov#wasDerivedFrom"),
        ("website", "http://schema.org/url"),
        ("sameAs", "http://schema.org/sameAs"),
        ("email", "http://schema.org/email"),
        ("telephone", "http://schema.org/telephone"),
        ("openingHours", "http://schema.org/openingHours"),
        ("maximumAttendeeCapacity", "http://schema.org/maximumAttendeeCapacity"),
        ("amenityFeature", "http://schema.org/amenityFeature"),
        ("value", "http://schema.org/value"),
        ("publicAccess", "http://schema.org/publicAccess"),
        ("isAccessibleForFree", "http://schema.org/isAccessibleForFree"),
        ("conditionsOfAccess", "http://schema.org/conditionsOfAccess"),
        ("address", "http://schema.org/address"),
        ("streetAddress", "http://schema.org/streetAddress"),
        ("addressLocality", "http://schema.org/addressLocality"),
        ("addressRegion", "http://schema.org/addressRegion"),
        ("postalCode", "http://schema.org/postalCode"),
        ("addressCountry", "http://schema.org/addressCountry"),
    ],
)
def test_each_term_expands_to_its_vocabulary_iri(term: str, iri: str) -> None:
    assert _expanded_term(term) == iri


def test_class_terms_and_prefixes() -> None:
    for term, iri in (
        ("Hashtag", "https://www.w3.org/ns/activitystreams#Hashtag"),
        ("PostalAddress", "http://schema.org/PostalAddress"),
        ("LocationFeatureSpecification", "http://schema.org/LocationFeatureSpecification"),
    ):
        doc = {"@context": vocab.ASSET_CONTEXT, "id": "https://x.example/1", "type": term}
        assert vocab.expand(doc)[0]["@type"] == [iri]
    assert PREFIXES["skos"] == "http://www.w3.org/2004/02/skos/core#"
    assert PREFIXES["schema"] == "http://schema.org/"


def test_the_context_by_url_means_the_same(no_network: list[str]) -> None:
    doc = {
        "id": "https://x.example/1",
        "type": ["Page", "commons:CommonsAsset"],
        "name": "n",
        "assetKind": "https://w3id.org/commons-registry/vocab/kinds/fablab",
        "publicAccess": True,
        "geometry": {"type": "Point", "coordinates": [1, 2]},
    }
    inline = vocab.expand({"@context": vocab.ASSET_CONTEXT, **doc})
    for ctx in (vocab.COMMONS_CONTEXT_URL, [vocab.AS_CONTEXT, vocab.COMMONS_CONTEXT_URL]):
        assert vocab.expand({"@context": ctx, **doc}) == inline
    served = vocab.commons_context_document()
    assert served["@context"][0] == vocab.AS_CONTEXT
    served["@context"].append("changed")
    assert vocab.commons_context_document() != served  # callers get copies
