"""The JSON-LD context of a commons asset: ActivityStreams first, then our inline terms.

Terms reuse existing vocabularies (schema.org, Dublin Core, DCAT, ValueFlows, ADMS, LOCN,
PROV, SKOS); only the ownership and governance models and the class CommonsAsset live in our
namespace. No term that the ActivityStreams context defines is redefined (a test checks).
The field terms are generated from the field table, so a new field needs no context edit.
Documents carry these definitions inline: a consumer needs no fetch to read them.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

from vocab.kinds import Field
from vocab.namespaces import (
    ADMS,
    AS,
    COMMONS,
    DCAT,
    DCT,
    LOCN,
    PROV,
    RDF_TYPE,
    SCHEMA,
    SKOS,
    VF,
    XSD,
)
from vocab.record import FIELDS

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
# FEP-8b32: without it `proof` and its terms expand to blank-node predicates under the AS
# context's `@vocab: "_:"`, and RDF consumers (Fedify, jsonld.js safe mode) drop or refuse them.
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
COMMONS_NS = COMMONS
COMMONS_CONTEXT_URL = "https://w3id.org/commons-registry/context.jsonld"
ASSET_TYPE = "commons:CommonsAsset"

# No `xsd` prefix: the AS context defines that name already, so datatypes are full IRIs.
PREFIXES = {
    "schema": SCHEMA,
    "dct": DCT,
    "dcat": DCAT,
    "vf": VF,
    "locn": LOCN,
    "adms": ADMS,
    "skos": SKOS,
    "prov": PROV,
    "commons": COMMONS,
}

# Terms that are not fields of their own: classes, and properties of nested nodes whose
# fields sit elsewhere (the address of a Place, the value of an amenity).
_EXTRA_TERMS: dict[str, Any] = {
    "Hashtag": AS + "Hashtag",  # used by every fediverse server, absent from the AS context
    # rdf:type outside `type`: the asset is a CommonsAsset in RDF while `type` stays the one
    # string ("Page") that Pleroma, Akkoma and Lemmy accept (docs/renderers.md)
    "rdfType": {"@id": RDF_TYPE, "@type": "@id"},
    "PostalAddress": "schema:PostalAddress",
    "LocationFeatureSpecification": "schema:LocationFeatureSpecification",
    "address": "schema:address",
    "value": "schema:value",
    "modified": {"@id": "dct:modified", "@type": XSD + "dateTime"},
}


def _compact(iri: str) -> str:
    if iri.startswith(AS):
        return "as:" + iri[len(AS) :]
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def _term(field: Field) -> Any:
    definition: dict[str, Any] = {"@id": _compact(field.iri)}
    coercion = field.kind.ld_type
    if coercion:
        definition["@type"] = XSD + coercion[4:] if coercion.startswith("xsd:") else coercion
    if field.kind.container:
        definition["@container"] = field.kind.container
    return definition if len(definition) > 1 else definition["@id"]


def _field_rows() -> list[Field]:
    rows = []
    for row in FIELDS:
        rows.append(row)
        rows.extend(getattr(row.kind, "fields", ()))  # nested location and steward fields
    return rows


def _build_terms() -> dict[str, Any]:
    terms: dict[str, Any] = {"@version": 1.1, **PREFIXES}
    for row in _field_rows():
        if row.iri.startswith(AS) or row.iri == "@id":
            continue  # an ActivityStreams term: the AS context already defines it
        terms[row.term] = _term(row)
    terms.update(_EXTRA_TERMS)
    return terms


COMMONS_TERMS: dict[str, Any] = _build_terms()
ASSET_CONTEXT: list[Any] = [AS_CONTEXT, DATA_INTEGRITY_CONTEXT, COMMONS_TERMS]
# The same context by URL: AS first so that it also works on its own.
COMMONS_CONTEXT_DOCUMENT: dict[str, Any] = {"@context": [AS_CONTEXT, COMMONS_TERMS]}


_ASSET_CONTEXT_JSON = orjson.dumps(ASSET_CONTEXT)


def asset_context() -> list[Any]:
    """A fresh copy of ASSET_CONTEXT, safe to modify. Parsed from its JSON text: every
    document written carries one, and orjson parses it ~40x faster than `copy.deepcopy`."""
    return orjson.loads(_ASSET_CONTEXT_JSON)


def commons_context_document() -> dict[str, Any]:
    """The document to serve at COMMONS_CONTEXT_URL (or a node's own copy of it)."""
    return copy.deepcopy(COMMONS_CONTEXT_DOCUMENT)
