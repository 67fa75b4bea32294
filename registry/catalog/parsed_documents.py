"""Stored asset documents already read back into records, remembered by their bytes.

Every listing (a search page, a group's assets, the moderation queue) turns each stored
JSON-LD document back into its record and meta to write API JSON or HTML: 20 documents a
page at ~0.15-0.5 ms each, the largest part of a search on a large catalog. A document's
record and meta depend on nothing but the document, and both are immutable, so the answer
is kept per document, keyed by a digest of the stored text itself (not a column that could
lag behind it): an edited asset has new text and a new key, and the old entry ages out.

Per process, at most `MAX_ENTRIES` (about 2 KB each: ~18 MB at most).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import vocab

MAX_ENTRIES = 8192


class ParsedDocuments:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[vocab.AssetRecord, vocab.AssetMeta]] = OrderedDict()

    def read(
        self, text: str | bytes, document: Any, *, remember: bool = True
    ) -> tuple[vocab.AssetRecord, vocab.AssetMeta]:
        """`vocab.read_asset_document(document)`, where `document` was parsed from `text`;
        raises as it does (a refused document is not remembered). With `remember` False
        (a whole export walking the catalog once) a kept answer is used but nothing is
        added, so the walk does not push out what listings read again and again."""
        raw = text.encode() if isinstance(text, str) else text
        key = hashlib.sha256(raw).digest()
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        found = vocab.read_asset_document(document)
        if not remember:
            return found
        self._entries[key] = found
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return found

    def __len__(self) -> int:
        return len(self._entries)


PARSED = ParsedDocuments()
