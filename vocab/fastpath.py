"""Expanding documents in our own compact form without pyld.

When a document's `@context` is exactly ours, every key's meaning is known in advance, so
expansion reduces to a table lookup per key. This module does that lookup and produces the
same expanded node pyld would (less a top-level `proof`, which no reader reads), for the
shapes our documents take. Anything outside those shapes (a keyword other than id/type, a
compact or absolute IRI as a key, a value object, a nested context, a relative IRI, a term
with a language or list container) makes it give up and return None; the caller then
expands the document with pyld as it would any other. Both paths feed the same reader, and
a test compares them on every fixture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vocab.bundled_contexts import BUNDLED
from vocab.context import (
    AS_CONTEXT,
    ASSET_CONTEXT,
    COMMONS_CONTEXT_URL,
    COMMONS_TERMS,
)

OWN_CONTEXTS: tuple[Any, ...] = (
    ASSET_CONTEXT,
    [AS_CONTEXT, COMMONS_CONTEXT_URL],
    COMMONS_CONTEXT_URL,
)
_GEN_DELIMS = tuple(":/?#[]@")
_AS_VOCAB = "_:"  # the ActivityStreams context maps undefined terms to blank-node IRIs


class _GiveUp(Exception):
    """The document is outside what the fast path reproduces exactly."""


@dataclass(frozen=True, slots=True)
class _Term:
    iri: str
    type: str | None
    supported: bool
    language_map: bool = False  # `@container: @language`, as in AS2's nameMap


def _load_terms() -> tuple[dict[str, _Term], dict[str, str]]:
    raw: dict[str, Any] = {}
    for ctx in (BUNDLED[AS_CONTEXT]["@context"], COMMONS_TERMS):
        raw.update({k: v for k, v in ctx.items() if not k.startswith("@")})
    prefixes = {
        k: v
        for k, v in raw.items()
        if isinstance(v, str) and v.endswith(_GEN_DELIMS) and not v.startswith("@")
    }

    def full(iri: str) -> str:
        prefix, _, suffix = iri.partition(":")
        return prefixes[prefix] + suffix if prefix in prefixes and suffix else iri

    terms = {}
    for key, value in raw.items():
        if isinstance(value, str):
            terms[key] = _Term(full(value), None, not value.startswith("@"))
            continue
        coercion, container = value.get("@type"), value.get("@container")
        supported = (
            set(value) <= {"@id", "@type", "@container"}
            and container in (None, "@set", "@language")
            and coercion != "@vocab"
        )
        terms[key] = _Term(
            full(value.get("@id", key)),
            full(coercion) if isinstance(coercion, str) else None,
            supported,
            language_map=container == "@language",
        )
    return terms, prefixes


TERMS, PREFIXES = _load_terms()


def is_own_context(context: Any) -> bool:
    return any(context == own for own in OWN_CONTEXTS)


def expand_own(doc: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The expanded form of a document in our compact form, or None to let pyld do it."""
    if not isinstance(doc, dict) or not is_own_context(doc.get("@context")):
        return None
    try:
        return [_node(doc, top=True)]
    except (_GiveUp, RecursionError):
        return None


def _node(obj: dict[str, Any], top: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not all(isinstance(key, str) for key in obj):
        raise _GiveUp
    for key, value in sorted(obj.items()):  # pyld expands keys in sorted order too
        if top and key in ("@context", "proof"):
            # The proof is checked on the compact form (federation.proofs) and no reader
            # reads its expansion (a graph with type-scoped terms), so it is left out.
            continue
        if key in ("id", "@id"):
            if "@id" in out or not isinstance(value, str):
                raise _GiveUp
            out["@id"] = _iri(value)
        elif key in ("type", "@type"):
            types = value if isinstance(value, list) else [value]
            if "@type" in out or not all(isinstance(t, str) for t in types):
                raise _GiveUp
            out["@type"] = [_vocab_iri(t) for t in types]
        elif key.startswith("@"):
            raise _GiveUp  # keywords other than id and type
        else:
            term = TERMS.get(key) or _iri_key(key)
            if term is None:
                continue  # an undefined term: pyld maps it to "_:<key>", which nobody reads
            if not term.supported:
                raise _GiveUp
            values = _values(term, value)
            if values:
                out.setdefault(term.iri, []).extend(values)
    return out


def _iri_key(key: str) -> _Term | None:
    """A compact or absolute IRI used as a key: a property without any coercion."""
    if ":" not in key or key.startswith("_:"):
        return None
    return _Term(_iri(key), None, True)


def _values(term: _Term, value: Any) -> list[Any]:
    if term.language_map:
        return _language_map(value)
    if term.type == "@json":
        if value is None:
            raise _GiveUp
        return [{"@value": value, "@type": "@json"}]
    if value is None:
        return []
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, list):
                raise _GiveUp
            out.extend(_values(term, item))
        return out
    if isinstance(value, dict):
        if "@value" in value:
            return _value_object(value)
        if any(
            isinstance(k, str) and k.startswith("@") and k not in ("@id", "@type") for k in value
        ):
            raise _GiveUp  # lists, sets, graphs, nested contexts
        return [_node(value)]
    if isinstance(value, str):
        if term.type == "@id":
            return [{"@id": _iri(value)}]
        return [{"@value": value, "@type": term.type} if term.type else {"@value": value}]
    if isinstance(value, (bool, int, float)):
        typed = term.type is not None and term.type != "@id"
        return [{"@value": value, "@type": term.type} if typed else {"@value": value}]
    raise _GiveUp


def _value_object(value: dict[str, Any]) -> list[Any]:
    """A value object keeps its own type or language, whatever the term says."""
    literal, datatype, language = value["@value"], value.get("@type"), value.get("@language")
    if literal is None:
        return []
    if (
        not set(value) <= {"@value", "@type", "@language"}
        or (datatype is not None and language is not None)
        or not isinstance(literal, (str, bool, int, float))
        or not isinstance(datatype, (str, type(None)))
        or not isinstance(language, (str, type(None)))
        or (language is not None and not isinstance(literal, str))
        or (isinstance(datatype, str) and datatype.startswith("@"))
    ):
        raise _GiveUp
    if datatype is not None:
        return [{"@value": literal, "@type": _vocab_iri(datatype)}]
    if language is not None:
        return [{"@value": literal, "@language": language.lower()}]
    return [{"@value": literal}]


def _language_map(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise _GiveUp
    out = []
    for language in sorted(value):  # pyld orders language maps by key and lowercases tags
        texts = value[language]
        for text in texts if isinstance(texts, list) else [texts]:
            if text is None:
                continue
            if not isinstance(text, str) or language.startswith("@"):
                raise _GiveUp  # "@none" and non-text entries are left to pyld
            out.append({"@value": text, "@language": language.lower()})
    return out


def _iri(value: str) -> str:
    """Expand a document-relative IRI; relative ones are left to pyld (which would resolve
    them against a placeholder base)."""
    prefix, colon, suffix = value.partition(":")
    if not colon:
        raise _GiveUp
    if prefix == "_" or suffix.startswith("//"):
        return value
    return PREFIXES[prefix] + suffix if prefix in PREFIXES else value


def _vocab_iri(value: str) -> str:
    if value in TERMS:
        return TERMS[value].iri
    if ":" in value:
        return _iri(value)
    return _AS_VOCAB + value
