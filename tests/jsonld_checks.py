"""Checks on expanded JSON-LD shared by the tests of what the node serves."""

from __future__ import annotations

from typing import Any


def blank_predicates(expanded: Any, where: str = "") -> list[str]:
    """Every key (or type) of an expanded document that is a blank-node IRI (`_:x`): a term
    the context did not define, which RDF consumers drop and jsonld.js safe mode refuses."""
    found: list[str] = []
    if isinstance(expanded, list):
        for item in expanded:
            found += blank_predicates(item, where)
    elif isinstance(expanded, dict):
        for key, value in expanded.items():
            if key.startswith("_:"):
                found.append(f"{where}/{key}")
            if key == "@type":
                types = value if isinstance(value, list) else [value]
                found += [f"{where}/@type {t}" for t in types if str(t).startswith("_:")]
            found += blank_predicates(value, f"{where}/{key}")
    return found
