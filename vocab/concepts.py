"""The four SKOS concept schemes: asset kinds, ownership models, governance models, status.

The schemes live as JSON-LD in `vocab/schemes/*.jsonld` (the same documents a node serves at
`/vocab/{scheme}`), read once at import. They are our own files in a fixed shape, so they are
read as plain JSON; a test expands them with pyld to prove they are valid SKOS.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from vocab.namespaces import VOCAB_BASE

SCHEMES: tuple[str, ...] = ("kinds", "ownership", "governance", "status")
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class Concept:
    scheme: str
    slug: str
    iri: str
    labels: MappingProxyType[str, str]
    definitions: MappingProxyType[str, str]
    exact_match: tuple[str, ...] = ()
    close_match: tuple[str, ...] = ()
    broad_match: tuple[str, ...] = ()

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return _pick(self.labels, lang) or self.slug

    def definition(self, lang: str = DEFAULT_LANGUAGE) -> str | None:
        return _pick(self.definitions, lang)


@dataclass(frozen=True, slots=True)
class Scheme:
    name: str
    iri: str
    labels: MappingProxyType[str, str]
    definitions: MappingProxyType[str, str]
    concepts: tuple[Concept, ...]

    def label(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return _pick(self.labels, lang) or self.name

    def slugs(self) -> list[str]:
        return [c.slug for c in self.concepts]


def _pick(texts: MappingProxyType[str, str], lang: str) -> str | None:
    """The text in `lang`, else in its base language (`es-AR` -> `es`), else in English."""
    lang = (lang or DEFAULT_LANGUAGE).lower()
    return texts.get(lang) or texts.get(lang.split("-")[0]) or texts.get(DEFAULT_LANGUAGE)


def _load(name: str) -> tuple[Scheme, dict[str, Any]]:
    raw = resources.files("vocab").joinpath("schemes").joinpath(f"{name}.jsonld").read_text("utf-8")
    doc = json.loads(raw)
    iri = f"{VOCAB_BASE}/{name}"
    if doc.get("id") != iri:  # a renamed file must not silently publish other IRIs
        raise RuntimeError(f"vocab/schemes/{name}.jsonld: id must be {iri}")
    concepts = []
    for node in doc["hasTopConcept"]:
        slug = node["notation"]
        if node["id"] != f"{iri}/{slug}" or node["inScheme"] != iri:
            raise RuntimeError(f"vocab/schemes/{name}.jsonld: bad IRI for concept {slug!r}")
        concepts.append(
            Concept(
                scheme=name,
                slug=slug,
                iri=node["id"],
                labels=MappingProxyType(dict(node["prefLabel"])),
                definitions=MappingProxyType(dict(node.get("definition", {}))),
                exact_match=tuple(node.get("exactMatch", ())),
                close_match=tuple(node.get("closeMatch", ())),
                broad_match=tuple(node.get("broadMatch", ())),
            )
        )
    scheme_ = Scheme(
        name=name,
        iri=iri,
        labels=MappingProxyType(dict(doc["prefLabel"])),
        definitions=MappingProxyType(dict(doc.get("definition", {}))),
        concepts=tuple(concepts),
    )
    return scheme_, doc


_SCHEMES: dict[str, Scheme] = {}
_DOCUMENTS: dict[str, dict[str, Any]] = {}
for _name in SCHEMES:
    _SCHEMES[_name], _DOCUMENTS[_name] = _load(_name)
_BY_SLUG = {(c.scheme, c.slug): c for s in _SCHEMES.values() for c in s.concepts}
_BY_IRI = {c.iri: c for c in _BY_SLUG.values()}


def scheme(name: str) -> Scheme:
    """The scheme called `name` (one of SCHEMES); KeyError for any other name."""
    try:
        return _SCHEMES[name]
    except KeyError:
        raise KeyError(f"unknown concept scheme {name!r}; one of {', '.join(SCHEMES)}") from None


def concept(scheme_name: str, slug: str) -> Concept | None:
    """The concept `slug` of a scheme, or None if there is no such scheme or concept."""
    return _BY_SLUG.get((scheme_name, slug)) if isinstance(slug, str) else None


def concept_by_iri(iri: str) -> Concept | None:
    """The concept whose canonical IRI is `iri`, in any scheme."""
    return _BY_IRI.get(iri) if isinstance(iri, str) else None


def slugs(scheme_name: str) -> list[str]:
    return scheme(scheme_name).slugs()


def label(scheme_name: str, slug: str, lang: str = DEFAULT_LANGUAGE) -> str | None:
    """The concept's label in `lang`, falling back to English; None for an unknown concept."""
    found = concept(scheme_name, slug)
    return found.label(lang) if found else None


def concept_iri(scheme_name: str, slug: str) -> str:
    return f"{VOCAB_BASE}/{scheme_name}/{slug}"


def scheme_document(name: str) -> dict[str, Any]:
    """The whole scheme as JSON-LD (SKOS), with its `@context`; a fresh copy to serve."""
    scheme(name)  # KeyError for an unknown scheme
    return copy.deepcopy(_DOCUMENTS[name])


def concept_document(scheme_name: str, slug: str) -> dict[str, Any] | None:
    """One concept as JSON-LD (SKOS) with its `@context`, or None if unknown."""
    if concept(scheme_name, slug) is None:
        return None
    doc = _DOCUMENTS[scheme_name]
    node = next(n for n in doc["hasTopConcept"] if n["notation"] == slug)
    return {"@context": copy.deepcopy(doc["@context"]), **copy.deepcopy(node)}
