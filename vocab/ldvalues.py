"""Reading values out of expanded JSON-LD: value objects, node references, typed literals.

Expanded JSON-LD gives every property a list of values, each either a value object
(`{"@value": ..., "@type"?, "@language"?}`) or a node object (`{"@id"?: ..., <iri>: [...]}`).
These helpers pick what a field needs from such a list and say what was wrong otherwise.
"""

from __future__ import annotations

from typing import Any

from vocab.errors import ErrorList


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


MISSING: Any = _Sentinel("MISSING")  # the field is not there at all
INVALID: Any = _Sentinel("INVALID")  # the field is there but wrong; an error was recorded


def is_value(item: Any) -> bool:
    return isinstance(item, dict) and "@value" in item


def is_node(item: Any) -> bool:
    return isinstance(item, dict) and "@value" not in item


def values_of(node: dict[str, Any], iri: str) -> list[Any]:
    found = node.get(iri)
    return found if isinstance(found, list) else []


def untagged(values: list[Any]) -> list[Any]:
    """The values without a language tag: the language-tagged ones belong to a language map
    (vocab.languages), so a text in no stated language is never taken from them."""
    return [v for v in values if not (is_value(v) and "@language" in v)]


def pick_literal(values: list[Any], path: str, errs: ErrorList, what: str = "text") -> Any:
    """The @value of the best value object: one without a language, else English, else the
    first; a node where a literal belongs is an error."""
    literals = [v for v in values if is_value(v)]
    if not literals:
        errs.add(path, f"expected {what}, not a linked object")
        return INVALID
    plain = [v for v in literals if "@language" not in v]
    english = [v for v in literals if str(v.get("@language", "")).lower().startswith("en")]
    return (plain or english or literals)[0]["@value"]


def pick_text(values: list[Any], path: str, errs: ErrorList) -> Any:
    value = pick_literal(values, path, errs)
    if value is INVALID or isinstance(value, str):
        return value
    errs.add(path, "expected text")
    return INVALID


def pick_iri(values: list[Any], path: str, errs: ErrorList) -> Any:
    """The IRI of the first node reference; text where a link belongs is an error."""
    for item in values:
        if is_node(item) and isinstance(item.get("@id"), str):
            iri = item["@id"]
            if iri.startswith("_:"):
                errs.add(path, "expected an IRI, not a blank node")
                return INVALID
            return iri
    errs.add(path, "expected an IRI (a link), not a literal value")
    return INVALID


def pick_iris(values: list[Any], path: str, errs: ErrorList) -> list[Any]:
    return [pick_iri([v], f"{path}[{i}]", errs) for i, v in enumerate(values)]


def first_node(values: list[Any], path: str, errs: ErrorList) -> Any:
    for item in values:
        if is_node(item):
            return item
    errs.add(path, "expected an object")
    return INVALID
