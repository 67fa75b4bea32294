"""JSON-LD contexts parsed once and shared by every document that carries them.

A document may carry its context inline, so that a consumer needs no fetch to read it; the
registry's asset documents do (2.5 kB), and a signed one holds a second copy in its proof:
two thirds of its 7.5 kB. Parsing those copies was much of what reading such a document
cost. A context the application registers here is parsed once. Where its text appears
verbatim as the value of `"@context"` (as orjson writes it: no spaces), the document reads
with the one shared value in that place. Its text with sorted keys is kept too: where a
document's or its proof's `@context` is a shared one, a sorted write (a proof's signed bytes,
a content hash) takes it from there instead of sorting it again (`dumps_sorted`). Only those
two places are looked at: finding contexts anywhere else, a walk of the document in
Python, cost more than orjson sorting them.

A shared value must never be changed in place. Nothing here does: documents get a new
`@context` entry rather than an edited one, and JSON-LD expansion works on its own copy.

The text is matched as `{"@context":` or `,"@context":` followed by the context's text. In
valid JSON the quote after `{` or `,` opens a string (inside a string it would be escaped), so
that is always a key named `@context`, and the text that follows is its whole value. While
reading, the value is replaced by a reference, `"~<id>"`, put back after parsing; a text that
already holds a `"@context":"~` value is parsed as it is, and so is one where more references
come back than were put in (an escaped key). The id is the start of the text's SHA-256, as in
the stored form of documents (registry.core.stored_documents), whose texts between a node's
processes use the same references behind a leading `~`.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

KEY = '"@context":'
MARK = "~"
_MARK_BYTES = MARK.encode()
_MARK_PREFIXES = (MARK, _MARK_BYTES)
_MARKS: dict[type, Any] = {str: '"' + MARK, bytes: ('"' + MARK).encode()}  # a reference's start


ID_LENGTH = 16  # hex digits


def context_id(text: str) -> str:
    """The id a context's JSON text is known by: the start of its SHA-256."""
    return hashlib.sha256(text.encode()).hexdigest()[:ID_LENGTH]


@dataclass(frozen=True, eq=False)
class SharedContext:
    ident: str
    text: str  # as orjson writes it
    value: Any  # parsed once, shared: never changed in place
    depth: int  # levels of arrays and objects in `value`
    reference: orjson.Fragment  # `"~<ident>"`
    sorted_text: orjson.Fragment  # as orjson writes it with sorted keys (`dumps_sorted`)


_BY_IDENT: dict[str, SharedContext] = {}
_BY_VALUE: dict[int, SharedContext] = {}  # id(value): the values live as long as the process
# Per type of text (str, bytes): the key, what may precede it, and each context's text with
# its reference.
_KEYS: dict[type, Any] = {str: KEY, bytes: KEY.encode()}
_BEFORE: dict[type, tuple[Any, Any]] = {str: ("{", ","), bytes: (b"{", b",")}
_SWAPS: dict[type, list[tuple[Any, Any]]] = {str: [], bytes: []}


def register(value: Any) -> SharedContext:
    """Share `value` (a context) from now on; a context already registered under the same
    text keeps its first value."""
    text = orjson.dumps(value).decode()
    ident = context_id(text)
    if ident in _BY_IDENT:
        return _BY_IDENT[ident]
    reference = f'"{MARK}{ident}"'
    shared = SharedContext(
        ident=ident,
        text=text,
        value=value,
        depth=_depth(value),
        reference=orjson.Fragment(reference),
        sorted_text=orjson.Fragment(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)),
    )
    _BY_IDENT[ident] = shared
    _BY_VALUE[id(value)] = shared
    _SWAPS[str].append((text, reference))
    _SWAPS[bytes].append((text.encode(), reference.encode()))
    return shared


def registered() -> list[SharedContext]:
    return list(_BY_IDENT.values())


def shared(value: Any) -> SharedContext | None:
    """The registered context that `value` is (the very object), if it is one."""
    found = _BY_VALUE.get(id(value))
    return found if found is not None and found.value is value else None


def parse(data: bytes | str) -> tuple[Any, int | None]:
    """A JSON text from anywhere, parsed with each registered context that is a key's value
    as its shared value; and how deep it nests in levels of arrays and objects, or None
    where it was parsed as it is (the caller measures). Raises orjson.JSONDecodeError."""
    text, placed = by_reference(data)
    if placed:
        try:
            value = orjson.loads(text)
            depth, found = restore(value)
        except (orjson.JSONDecodeError, LookupError):
            found = -1  # the error is reported for the text as sent, below
        # Another `@context` that reads as a reference (escaped in the text) was restored
        # too: the text is read as it is instead.
        if found == placed:
            return value, depth
    return orjson.loads(data), None


def by_reference(data: bytes | str) -> tuple[bytes | str, int]:
    """JSON text from anywhere, with each registered context that is a key's value replaced
    by its reference, and how many were (then `restore` the parsed value)."""
    swaps = _SWAPS.get(type(data))
    if swaps is None:  # a bytearray or memoryview: parsed as it is
        return data, 0
    kind = type(data)
    # Found by the key and compared in place: a search for each context's 2.5 kB text
    # would cost more than parsing it.
    key, before, parts, done = _KEYS[kind], _BEFORE[kind], [], 0
    mark = _MARKS[kind]
    at = data.find(key)
    while at >= 0:
        value_at = at + len(key)
        if data.startswith(mark, value_at):
            return data, 0  # a value that would read as a reference: parsed as it is
        if data[at - 1 : at] in before:
            for text, reference in swaps:
                if data.startswith(text, value_at):
                    parts += (data[done:value_at], reference)
                    done = value_at + len(text)
                    break
        at = data.find(key, value_at)
    if not parts:
        return data, 0
    parts.append(data[done:])
    return data[:0].join(parts), len(parts) // 2


def restore(value: Any) -> tuple[int, int]:
    """Put the shared value in place of each reference (a `@context` string `~<id>`) in a
    parsed value; returns how deep the value then nests, in levels of arrays and objects,
    and how many references it put back. Raises LookupError for an unknown context."""
    depth, level, current = 0, 1, [value] if type(value) in (dict, list) else []
    restored = 0
    while current:
        depth = max(depth, level)
        deeper = []
        for node in current:
            if type(node) is dict:
                context = node.get("@context")
                if _reads_as_reference(context):
                    found = _BY_IDENT.get(context[1:])
                    if found is None:
                        raise LookupError(f"a document names context {context[1:]}, not known here")
                    node["@context"] = found.value
                    depth = max(depth, level + found.depth)
                    restored += 1
                children = node.values()
            else:
                children = node
            for child in children:
                kind = type(child)
                if (kind is dict or kind is list) and shared(child) is None:
                    deeper.append(child)
        current = deeper
        level += 1
    return depth, restored


def loads(data: bytes | str) -> Any:
    """Read what `dumps(..., by_reference=True)` wrote, in this or another process of the
    node: marked with a leading `~` when it holds references."""
    if data[:1] not in _MARK_PREFIXES:
        return orjson.loads(data)
    value = orjson.loads(data[1:])
    restore(value)
    return value


def dumps(value: Any, *, by_reference: bool = False) -> bytes:
    """`orjson.dumps(value)`; `by_reference` writes each shared context as its reference
    instead, for `loads` to read back (then the text is marked with a leading `~`; a value
    with another `@context` that would read as a reference is written as it is, unmarked)."""
    # A reference alone would read back as a string.
    if not by_reference or shared(value) is not None:
        return orjson.dumps(value)
    try:
        written = _with_references(value)
    except _LooksLikeReference:
        return orjson.dumps(value)
    if written is not value:
        return _MARK_BYTES + orjson.dumps(written)
    return orjson.dumps(written)


_sorted_text = operator.attrgetter("sorted_text")


def dumps_sorted(value: Any) -> bytes:
    """`orjson.dumps(value, option=orjson.OPT_SORT_KEYS)`, with a shared context that is the
    `@context` of `value` or of its `proof` written from the sorted text kept for it. Sorting
    the 2.5 kB context was most of the work, and a signed asset carries it twice."""
    if type(value) is dict:
        value, _ = contexts_written_as(value, _sorted_text)
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def contexts_written_as(
    document: dict[str, Any], written: Callable[[SharedContext], orjson.Fragment | None]
) -> tuple[dict[str, Any], int]:
    """`document`, or a copy in which each shared context that is its `@context` or its
    proof's is `written(context)` (left as it is where that is None); and how many were
    replaced. Only those two places are looked at: a walk of the whole document to find
    others costs more than it saves."""
    copied, replaced = _context_written_as(document, written)
    proof = document.get("proof")
    if type(proof) is dict:
        proof_copied, in_proof = _context_written_as(proof, written)
        if in_proof:
            copied = {**copied, "proof": proof_copied}
            replaced += in_proof
    return copied, replaced


def _context_written_as(
    value: dict[str, Any], written: Callable[[SharedContext], orjson.Fragment | None]
) -> tuple[dict[str, Any], int]:
    found = shared(value.get("@context"))
    fragment = None if found is None else written(found)
    if fragment is None:
        return value, 0
    return {**value, "@context": fragment}, 1


def deep_copy(value: Any) -> Any:
    """A copy of a JSON value that shares nothing with it but its shared contexts; through
    orjson, so only for values that orjson writes exactly as they are (no tuples, no
    integral floats to keep)."""
    return value if shared(value) is not None else loads(dumps(value, by_reference=True))


def _with_references(value: Any) -> Any:
    """`value` with each shared context inside it replaced by its reference, copying only
    the objects and arrays on the way to one."""
    found = shared(value)
    if found is not None:
        return found.reference
    kind = type(value)
    if kind is not dict and kind is not list:
        return value
    if kind is dict and _reads_as_reference(value.get("@context")):
        raise _LooksLikeReference
    copied = None
    for key, item in value.items() if kind is dict else enumerate(value):
        if type(item) is dict or type(item) is list:
            replaced = _with_references(item)
            if replaced is not item:
                if copied is None:
                    copied = kind(value)
                copied[key] = replaced
    return value if copied is None else copied


class _LooksLikeReference(Exception):
    pass


def _reads_as_reference(context: Any) -> bool:
    return type(context) is str and context.startswith(MARK)


def _depth(value: Any) -> int:
    if type(value) is dict:
        return 1 + max(map(_depth, value.values()), default=0)
    if type(value) is list:
        return 1 + max(map(_depth, value), default=0)
    return 0
