"""The text an asset document is stored as: each context the node knows, by reference.

Every asset document carries its JSON-LD context inline (2.5 kB; a signed one a second copy
inside its proof), so that a consumer needs no fetch to read it. Stored that way, the context
was most of each row of `asset_documents`: over half of what SQLite writes for an asset, and
most of the 3 GB of TOAST behind a million-asset catalog on PostgreSQL, read again by every
search page. So in the stored text each occurrence of a context listed in `stored_contexts/`
is written `"@context":"~<its id>"`, and the whole text is marked with a leading `~`; reading
puts the context back, byte for byte, so what is served, hashed and verified is unchanged.

Exact both ways: a JSON text never starts with `~`, and `"@context":` with unescaped quotes
can only be a key, never part of a string. A text that already holds a `"@context":"~…`
value is stored as it is, unmarked, and so is any text with none of the known contexts (a
partner on another version). Rows written before this existed read back unchanged.

A context, once listed, stays listed: stored rows name it. `tests/registry/test_stored_documents.py`
fails when the documents' context changes and its new text is not yet in `stored_contexts/`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson

import vocab
from federation import shared_contexts
from federation.shared_contexts import ID_LENGTH, KEY, MARK, context_id

__all__ = ["KEY", "MARK", "context_id"]

# The context every asset document carries, shared from the start (the listed ones are
# registered when first read): documents that arrive with it, and those written here, hold
# this one value.
shared_contexts.register(vocab.ASSET_CONTEXT)

CONTEXTS_DIR = Path(__file__).with_name("stored_contexts")
_REFERENCE_START = KEY + '"' + MARK  # what a reference begins with


@cache
def known_contexts() -> dict[str, str]:
    """Every listed context: id -> its JSON text (as orjson writes it: no spaces). Each is
    shared in memory too (federation.shared_contexts): a stored document reads without parsing
    its context again (`load`)."""
    listed = {
        path.stem: path.read_text(encoding="utf-8").strip()
        for path in sorted(CONTEXTS_DIR.glob("*.json"))
    }
    for text in listed.values():
        shared_contexts.register(orjson.loads(text))
    return listed


def to_stored(text: str) -> str:
    """The stored form of a document's JSON text."""
    if _REFERENCE_START in text:
        return text  # a value that would read as a reference: kept verbatim, unmarked
    contexts = known_contexts()
    parts: list[str] = []
    done = 0
    at = text.find(KEY)
    while at >= 0:
        value_at = at + len(KEY)
        for ident, context in contexts.items():
            if text.startswith(context, value_at):  # compared in place, no copy
                parts += (text[done:value_at], f'"{MARK}{ident}"')
                done = value_at + len(context)
                break
        at = text.find(KEY, value_at)
    if not parts:
        return text
    parts.append(text[done:])
    return MARK + "".join(parts)


def dumps(document: Any) -> str:
    """The stored form of a document: what `to_stored(orjson.dumps(document).decode())`
    gives, written by orjson with a listed context that is the document's `@context` or its
    proof's as its reference. Searching the 5 kB text and copying it again cost three times
    as much. A document with any other `@context` in it is written the long way."""
    if type(document) is dict:
        contexts = known_contexts()
        written, replaced = shared_contexts.contexts_written_as(
            document, lambda shared: shared.reference if shared.ident in contexts else None
        )
        if replaced:
            text = orjson.dumps(written).decode()
            if text.count(KEY) == replaced:
                return MARK + text
    return to_stored(orjson.dumps(document).decode())


def from_stored(stored: str) -> str:
    """The document's JSON text again, contexts inline. A reference to a context this
    version does not list raises LookupError (rows written by a newer version)."""
    if not stored.startswith(MARK):
        return stored
    contexts = known_contexts()
    # Split at each reference rather than a regular expression's substitution: a feed page
    # writes a hundred documents out, and this is about twice as fast. In a marked text every
    # `"@context":"~` is a reference that `to_stored` wrote (a text holding one already is
    # stored unmarked), so each piece after the first starts with an id and its closing quote.
    first, *rest = stored[len(MARK) :].split(_REFERENCE_START)
    parts = [first]
    for piece in rest:
        ident = piece[:ID_LENGTH]
        if ident not in contexts or piece[ID_LENGTH : ID_LENGTH + 1] != '"':
            raise LookupError(f"a stored document names context {ident}, not known here")
        parts += (KEY, contexts[ident], piece[ID_LENGTH + 1 :])
    return "".join(parts)


def load(stored: str) -> Any:
    """The parsed document of a stored text, each listed context as its one shared value:
    what `orjson.loads(from_stored(stored))` gives, without parsing the contexts again."""
    if not stored.startswith(MARK):
        return shared_contexts.parse(stored)[0]
    known_contexts()  # registers them
    value = orjson.loads(stored[len(MARK) :])
    _depth, restored = shared_contexts.restore(value)
    if restored != stored.count(_REFERENCE_START):
        # A reference under a key that only ends in "@context", or a `@context` that
        # reads as one only once parsed (escaped): read the long way.
        return orjson.loads(from_stored(stored))
    return value


def without_leading_context(stored: str, context: Any) -> str | None:
    """The JSON text of a stored document without its `@context` member, for a response that
    carries `context` once for many documents (a changes-feed page, which writes it as an
    `orjson.Fragment`): as it is stored, the other contexts put back inline, with no parsing.
    None unless the text begins with that member holding the registered context `context`
    (then the caller parses and edits)."""
    shared = shared_contexts.shared(context)
    if shared is None:
        return None
    head = f'{MARK}{{{_REFERENCE_START}{shared.ident}",'
    if not stored.startswith(head):
        return None
    return from_stored(MARK + "{" + stored[len(head) :])
