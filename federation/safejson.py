"""JSON parsing with a nesting limit, for documents that come from other servers.

A 20,000-deep array parses into a structure that later recursive code (JSON-LD expansion,
our own walkers) cannot handle. orjson itself refuses anything deeper than 1,024 levels
(without recursing), so the document is parsed first and its depth then measured on what
was parsed, visiting only its arrays and objects: a fifth of what scanning the raw bytes
for brackets outside strings cost. A JSON-LD context registered in `shared_contexts` (the
asset context, two thirds of an asset document) is not parsed again: the document reads
with its one shared value, and the depth counts that value's levels.
"""

from __future__ import annotations

from typing import Any

import orjson

from federation import shared_contexts

MAX_DEPTH = 64


class JsonError(ValueError):
    """The bytes are not JSON, or nest deeper than allowed."""


class TooDeep(JsonError):
    """Valid JSON that nests deeper than allowed."""


def nesting_exceeds(value: Any, max_depth: int = MAX_DEPTH) -> bool:
    """Whether arrays/objects in a parsed value nest deeper than `max_depth`: level by
    level, without recursion, looking only at what each array or object holds."""
    if type(value) is not dict and type(value) is not list:
        return False
    level, current = 1, [value]
    while current:
        if level > max_depth:
            return True
        deeper = []
        for node in current:
            for child in node.values() if type(node) is dict else node:
                kind = type(child)
                if kind is dict or kind is list:
                    deeper.append(child)
        current = deeper
        level += 1
    return False


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON, refusing documents nested deeper than `max_depth`. Raises `JsonError`
    (`TooDeep` for valid JSON that nests too deep)."""
    try:
        value, depth = shared_contexts.parse(data)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise TooDeep(f"JSON nests deeper than {max_depth} levels") from None
        raise JsonError(f"invalid JSON: {exc}") from exc
    if nesting_exceeds(value, max_depth) if depth is None else depth > max_depth:
        raise TooDeep(f"JSON nests deeper than {max_depth} levels")
    return value
