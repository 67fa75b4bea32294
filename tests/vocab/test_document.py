"""Record <-> JSON-LD document: every field keeps its meaning through pyld, any equivalent
document imports to the same record, and our own documents never need pyld."""

from __future__ import annotations

import copy
import dataclasses
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pyld import jsonld

import vocab
from vocab import fastpath, loader
from vocab.document import read_expanded
from vocab.namespaces import RDF_TYPE
from vocab.record import FIELDS

from .conftest import INVALID_FIXTURES, VALID_FIXTURES, expected_meta, expected_record, load

AS = "https://www.w3.org/ns/activitystreams#"
SDO = "http://schema.org/"
DCT = "http://purl.org/dc/terms/"
COMMONS = "https://w3id.org/commons-registry/ns#"
VOCAB = "https://w3id.org/commons-registry/vocab/"
TAGS = "https://bcn.example.org/tags"

# One vocabulary IRI per field: what each field means once the document is expanded.
FIELD_IRIS = {
    "name": AS + "name",
    "kind": DCT + "type",
    "summary": DCT + "abstract",
    "description": DCT + "description",
    "ownership_model": COMMONS + "ownershipModel",
    "governance_model": COMMONS + "governanceModel",
    "status": "http://www.w3.org/ns/adms#status",
    "steward": "https://w3id.org/valueflows/ont/vf#primaryAccountable",
    "access_conditions": SDO + "conditionsOfAccess",
    "access_rights": DCT + "accessRights",
    "public_access": SDO + "publicAccess",
    "free_of_charge": SDO + "isAccessibleForFree",
    "license": DCT + "license",
    "location": AS + "location",
    "geometry": "http://www.w3.org/ns/locn#geometry",
    "tags": "http://www.w3.org/ns/dcat#keyword",
    "website": SDO + "url",
    "same_as": SDO + "sameAs",
    "email": SDO + "email",
    "telephone": SDO + "telephone",
    "opening_hours": SDO + "openingHours",
    "capacity": SDO + "maximumAttendeeCapacity",
    "amenities": SDO + "amenityFeature",
    "identifier": DCT + "identifier",
    "derived_from": "http://www.w3.org/ns/prov#wasDerivedFrom",
    "rights": "http://purl.org/dc/terms/rights",
    # the same properties, language-tagged
    "name_map": AS + "name",
    "summary_map": DCT + "abstract",
    "description_map": DCT + "description",
}
# Inside the location: the point on the AS2 Place, the rest on its schema.org PostalAddress.
LOCATION_IRIS = {
    "latitude": (None, AS + "latitude"),
    "longitude": (None, AS + "longitude"),
    "street_address": (SDO + "address", SDO + "streetAddress"),
    "locality": (SDO + "address", SDO + "addressLocality"),
    "region": (SDO + "address", SDO + "addressRegion"),
    "postal_code": (SDO + "address", SDO + "postalCode"),
    "country": (SDO + "address", SDO + "addressCountry"),
}
MULTILINGUAL = {
    "name_map": {"ca": "Biblioteca d'eines", "es": "Biblioteca de herramientas"},
    "summary_map": {"ca": "Eines en préstec", "pt-BR": "Ferramentas emprestadas"},
    "description_map": {"es": "Taladros y sierras.\n\nLos sábados."},
}
FULL = {**load("expected-record.json"), **MULTILINGUAL}
BASE = {"name": "Fab Lab Poblenou", "kind": "fablab"}


def document(record: vocab.AssetRecord, meta: vocab.AssetMeta | None = None) -> dict[str, Any]:
    return vocab.asset_document(record, meta or expected_meta(), TAGS)


def test_the_field_table_and_this_test_name_the_same_fields() -> None:
    assert set(FIELD_IRIS) == {f.name for f in FIELDS}
    assert {f.name: f.iri for f in FIELDS} == FIELD_IRIS


@pytest.mark.parametrize("name", list(FIELD_IRIS))
def test_each_field_survives_pyld_expansion_with_its_vocabulary_iri(name: str) -> None:
    record = vocab.validate_asset_input({**BASE, name: FULL[name]})
    expanded = vocab.expand(document(record))
    node = expanded[0]
    assert FIELD_IRIS[name] in node, sorted(node)
    assert node["@type"] == [AS + "Page"]
    assert node[RDF_TYPE] == [{"@id": COMMONS + "CommonsAsset"}]
    assert read_expanded(expanded) == (record, expected_meta())
    assert vocab.read_asset_document(document(record)) == (record, expected_meta())


@pytest.mark.parametrize("name", list(LOCATION_IRIS))
def test_each_location_field_sits_on_the_place_or_its_address(name: str) -> None:
    value = FULL["location"][name]
    pair = {"latitude": 41.0, "longitude": 2.0} if name in ("latitude", "longitude") else {}
    record = vocab.validate_asset_input({**BASE, "location": {**pair, name: value}})
    place = vocab.expand(document(record))[0][AS + "location"][0]
    assert place["@type"] == [AS + "Place"]
    holder, iri = LOCATION_IRIS[name]
    node = place if holder is None else place[holder][0]
    if holder:
        assert node["@type"] == [SDO + "PostalAddress"]
    assert iri in node
    assert vocab.read_asset_document(document(record))[0] == record


def test_values_are_written_as_the_vocabularies_expect() -> None:
    doc = document(expected_record())
    assert doc["@context"] == vocab.ASSET_CONTEXT
    # one type string (Pleroma, Akkoma, Lemmy drop a list); CommonsAsset as rdf:type
    assert doc["type"] == "Page" and doc["rdfType"] == "commons:CommonsAsset"
    # the record's text as plain literals; the post (content) is built from it, never summary
    assert doc["abstract"] == "Public digital fabrication workshop & training <for everyone>"
    assert doc["description"] == FULL["description"]
    assert "summary" not in doc and "source" not in doc
    assert doc["content"] == (
        '<p><a href="https://bcn.example.org/assets/fablab-poblenou">Fab Lab Poblenou</a></p>'
        "<p>Public digital fabrication workshop &amp; training &lt;for everyone&gt;</p>"
        "<p>Fab lab or makerspace · Barcelona, Catalunya, ES</p>"
        '<p><a href="https://bcn.example.org/tags/fablab" class="mention hashtag" rel="tag">'
        '#<span>fablab</span></a> <a href="https://bcn.example.org/tags/makerspace" '
        'class="mention hashtag" rel="tag">#<span>makerspace</span></a></p>'
    )
    assert doc["contentMap"] == {"en": doc["content"]}
    assert doc["assetKind"] == VOCAB + "kinds/fablab"
    assert doc["lifecycleStatus"] == VOCAB + "status/active"
    assert doc["license"] == "https://spdx.org/licenses/CC-BY-SA-4.0"
    assert doc["accessRights"] == (
        "http://publications.europa.eu/resource/authority/access-right/PUBLIC"
    )
    assert doc["steward"] == {
        "id": "https://coop-fabricacio.example/",
        "type": "Organization",
        "name": "Coop Fabricació",
    }
    assert doc["tag"][0] == {"type": "Hashtag", "name": "#fablab", "href": f"{TAGS}/fablab"}
    assert doc["keywords"] == ["fablab", "makerspace"]
    assert doc["location"]["type"] == "Place"
    assert doc["location"]["address"]["type"] == "PostalAddress"
    assert doc["to"] == [AS + "Public"]
    assert doc["cc"] == ["https://bcn.example.org/followers"]
    assert doc["published"] == "2025-01-10T09:00:00Z"
    assert doc["attributedTo"] == "https://bcn.example.org/actor"


def test_our_published_form_is_stable() -> None:
    # fixtures/own.jsonld is the golden copy: a change here changes what every peer receives
    assert document(expected_record()) == load("own")


def test_meta_timestamps_are_utc_with_z_and_extra_members_are_merged() -> None:
    record = vocab.validate_asset_input({**BASE, "tags": ["a/b?", "niño"]})
    meta = vocab.AssetMeta(
        iri="https://n.example/assets/1",
        published=datetime(2025, 1, 1, 10, 30, 15, 999, tzinfo=timezone(timedelta(hours=2))),
        updated=datetime(2025, 1, 2),
        extra={"proof": {"type": "DataIntegrityProof"}},
    )
    doc = vocab.asset_document(record, meta, "https://n.example/tags/")
    assert doc["published"] == "2025-01-01T08:30:15Z"
    assert doc["updated"] == "2025-01-02T00:00:00Z"
    assert doc["proof"] == {"type": "DataIntegrityProof"}
    assert "cc" not in doc and "url" not in doc
    assert [t["href"] for t in doc["tag"]] == [
        "https://n.example/tags/a%2Fb%3F",
        "https://n.example/tags/ni%C3%B1o",
    ]
    read_record, read_meta = vocab.read_asset_document(doc)
    assert read_record == record
    assert read_meta.published == datetime(2025, 1, 1, 8, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize("name", VALID_FIXTURES)
def test_every_equivalent_document_imports_to_the_same_record(name: str) -> None:
    expected = expected_record()
    if name == "expanded":  # its name is also given in Spanish: a language map, not dropped
        expected = dataclasses.replace(expected, name_map=(("es", "Fab Lab del Poblenou"),))
    assert vocab.read_asset_document(load(name)) == (expected, expected_meta())


@pytest.mark.parametrize(("name", "fields"), INVALID_FIXTURES.items())
def test_invalid_documents_name_their_bad_fields(name: str, fields: set[str]) -> None:
    with pytest.raises(vocab.ValidationError) as caught:
        vocab.read_asset_document(load(name))
    assert {e.field for e in caught.value.errors} == fields


def _outcome(read: Any) -> Any:
    try:
        return read()
    except vocab.ValidationError as error:
        return sorted(str(e) for e in error.errors)


@pytest.mark.parametrize("name", [*VALID_FIXTURES, *INVALID_FIXTURES])
def test_the_fast_path_and_pyld_agree_on_every_fixture(name: str) -> None:
    doc = load(name)
    if name == "invalid-unknown-context":  # neither path can read what cannot be expanded
        assert fastpath.expand_own(doc) is None
        with pytest.raises(vocab.ContextNotAllowed):
            loader.expand(doc)
        return
    slow = _outcome(lambda: read_expanded(loader.expand(doc)))
    # Documents in other forms are first compacted into ours, which the fast path then reads.
    own = (
        doc
        if fastpath.is_own_context(doc.get("@context") if isinstance(doc, dict) else None)
        else vocab.compact(doc, vocab.ASSET_CONTEXT)
    )
    fast_expanded = fastpath.expand_own(own)
    assert fast_expanded is not None, "the fast path gave up"
    assert fast_expanded == loader.expand(own)
    assert _outcome(lambda: read_expanded(fast_expanded)) == slow


def test_other_forms_go_through_pyld_and_ours_do_not() -> None:
    for name in ("expanded", "prefixed"):
        assert fastpath.expand_own(load(name)) is None
    for name in ("own", "context-url", "arrays"):
        assert fastpath.expand_own(load(name)) is not None


def test_the_fast_path_never_calls_pyld(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pyld was called on the fast path")

    for name in ("expand", "compact", "to_rdf", "flatten", "normalize"):
        monkeypatch.setattr(jsonld, name, forbidden)
    monkeypatch.setattr(loader, "expand", forbidden)
    own = load("own")
    variants = [
        own,
        load("context-url"),
        load("arrays"),
        {**own, "@context": [vocab.AS_CONTEXT, vocab.COMMONS_CONTEXT_URL]},
        {
            **own,
            "nameMap": {"ca": "Fab Lab del Poblenou"},
            "rating": 5,
            "http://example.org/ns#stars": {"@value": "5", "@type": "xsd:integer"},
        },
    ]
    for doc in variants:
        expected = expected_record()
        if "nameMap" in doc:
            expected = dataclasses.replace(expected, name_map=(("ca", "Fab Lab del Poblenou"),))
        assert vocab.read_asset_document(doc) == (expected, expected_meta())
    with pytest.raises(vocab.ValidationError, match="pyld was called"):
        vocab.read_asset_document(load("prefixed"))  # the other forms do need pyld


def test_unknown_properties_are_ignored_and_page_alone_is_not_an_asset() -> None:
    doc = {
        **load("own"),
        "rating": 5,
        "sensitive": False,
        "attachment": [{"type": "Image"}],
        "https://example.org/ns#x": {"deep": {"er": [1, 2]}},
    }
    assert vocab.read_asset_document(doc)[0] == expected_record()
    page_only = {k: v for k, v in load("own").items() if k != "rdfType"}
    with pytest.raises(vocab.ValidationError) as caught:
        vocab.read_asset_document(page_only)
    assert [e.field for e in caught.value.errors] == ["type"]


def test_a_type_spelled_any_way_that_expands_to_the_asset_class_counts() -> None:
    own = {k: v for k, v in load("own").items() if k != "rdfType"}
    for spelling in (COMMONS + "CommonsAsset", ["Place", "commons:CommonsAsset"]):
        assert vocab.read_asset_document({**own, "type": spelling})[0] == expected_record()


def _junk(rng: random.Random, depth: int = 0) -> Any:
    options: list[Any] = [
        None,
        True,
        0,
        -5,
        1e308,
        "",
        "x",
        "https://x.example/",
        "_:b0",
        "as:Public",
        {"@value": 1},
        {"@id": 5},
        {"@list": [1]},
        [],
        {},
        {"@context": "https://evil.example/"},
        {"type": "Place"},
    ]
    if depth < 3 and rng.random() < 0.3:
        return [_junk(rng, depth + 1) for _ in range(rng.randrange(3))]
    if depth < 3 and rng.random() < 0.3:
        return {
            rng.choice(["id", "type", "name", "latitude", "@value", "href"]): _junk(rng, depth + 1)
            for _ in range(rng.randrange(3))
        }
    return rng.choice(options)


def test_no_document_raises_anything_but_a_validation_error() -> None:
    rng = random.Random(11)
    own = load("own")
    deep: Any = {}
    for _ in range(5000):
        deep = {"location": deep}
    docs: list[Any] = [
        None,
        [],
        "x",
        5,
        [None],
        [[]],
        {"@context": 5},
        {"@context": [{}, 3]},
        {**own, "@context": {"@version": 2.0}},
        {**own, "location": deep},
        {**own, "id": {"x": 1}},
        {**own, "@graph": [own, own]},
    ]
    keys = [k for k in own if k != "@context"]
    for _ in range(400):
        doc = copy.deepcopy(own)
        for _ in range(rng.randrange(1, 4)):
            doc[rng.choice(keys)] = _junk(rng)
        docs.append(doc)
    ok = 0
    for doc in docs:
        try:
            vocab.read_asset_document(doc)
            ok += 1
        except vocab.ValidationError as error:
            assert error.errors
    assert ok > 10


def test_an_asset_that_moved_names_its_earlier_iris_in_also_known_as() -> None:
    # A group's asset imported on a new node keeps its old IRI as `alsoKnownAs` (issue 22):
    # the fast path and pyld read it alike, and a copy rebuilt from the record keeps it.
    record = vocab.validate_asset_input(BASE)
    old = "https://old.example/assets/abc"
    meta = vocab.AssetMeta(iri="https://new.example/assets/xyz", also_known_as=(old,))
    doc = vocab.asset_document(record, meta, TAGS)
    assert doc["alsoKnownAs"] == [old]
    fast = fastpath.expand_own(doc)
    assert fast is not None and fast == loader.expand(doc)
    assert vocab.read_asset_document(doc)[1].also_known_as == (old,)
    assert read_expanded(loader.expand(doc))[1].also_known_as == (old,)
    assert "alsoKnownAs" not in document(record)
