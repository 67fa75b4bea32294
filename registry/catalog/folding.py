"""Text folded into the words that full-text search (registry.catalog.fulltext) indexes
and matches: Unicode decomposition, accents dropped, case folded, split into words.

Pure, with no database: a copy's search columns are made by a sync's check workers, which
import this and not the SQL of the search.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_WORD = re.compile(r"[^\W_]+")


def fold_words(value: str | None) -> list[str]:
    """Split text into accent- and case-folded words."""
    if not value:
        return []
    if value.isascii():  # nothing to decompose or strip: most names and places
        return _WORD.findall(value.lower())
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(stripped.casefold())


def fold(values: Iterable[str | None]) -> str:
    """The folded, space-separated form stored in search_name / search_text."""
    words: list[str] = []
    for value in values:
        words.extend(fold_words(value))
    return " ".join(words)
