"""JSON parsing with a nesting limit, for documents that come from other servers.

A 20,000-deep array parses into a structure that later recursive code (JSON-LD expansion,
our own walkers) cannot handle, so depth is checked on the raw bytes before parsing.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

MAX_DEPTH = 64

# A JSON string, written as an unrolled loop so that long strings cost linear time.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_INNERMOST = re.compile(rb"\[\]|\{\}")


class JsonError(ValueError):
    """The bytes are not JSON, or nest deeper than allowed."""


def too_deep(data: bytes, max_depth: int = MAX_DEPTH) -> bool:
    """Whether arrays/objects nest deeper than `max_depth`, ignoring brackets inside strings.

    Each pass deletes the innermost bracket pairs (in C, via `re`), so a document of depth d
    empties after d passes; we stop after `max_depth`. Unbalanced input answers False and is
    left for the parser to reject with a better message.
    """
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False  # too few brackets to nest that deep (those in strings only add to it)
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    for _ in range(max_depth):
        if not brackets:
            return False
        reduced = _INNERMOST.sub(b"", brackets)
        if len(reduced) == len(brackets):
            return False
        brackets = reduced
    return _INNERMOST.search(brackets) is not None


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON, refusing documents nested deeper than `max_depth`. Raises `JsonError`."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if too_deep(raw, max_depth):
        raise JsonError(f"JSON nests deeper than {max_depth} levels")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise JsonError(f"invalid JSON: {exc}") from exc
