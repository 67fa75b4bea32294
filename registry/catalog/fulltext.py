"""Full-text search: SQLite FTS5 or a PostgreSQL tsvector with a GIN index.

Text is folded in Python (registry.catalog.folding) before it reaches either database, so
both engines index and match the same words and no database extension (unaccent) is needed.
Ranking is computed from the matched row alone (how many query words start a word of its
name), never from corpus-wide statistics: a rank that moved whenever another asset was
written would make cursor pages skip or repeat results.

Words are matched across their languages' inflections by stemming the *query* (Snowball, in
each interface language): "bibliotecas" is also sought as the prefix "bibliotec", so it finds
"biblioteca"; "outils" finds "outil". Because matching is by word prefix, a stem that starts
the word simply widens it, and the index needs no stems of its own: both databases keep one
folded word list, whatever the asset's language. The index itself (an FTS5 table kept by
triggers on `asset_search`, or a generated tsvector column of `asset_search`) is created by the
migrations.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, case, func, literal, literal_column, or_, select, text

from registry.catalog.folding import fold_words
from registry.core.schema import asset_search, assets

if TYPE_CHECKING:
    import snowballstemmer

MAX_QUERY_WORDS = 12
# The interface's languages, by Snowball's names for them.
STEM_LANGUAGES = ("english", "spanish", "catalan", "french", "german", "italian")
MIN_STEMMED_WORD = 5  # shorter words are searched as typed ("fab", "lab", "art")
MIN_STEM = 4  # a stem shorter than this would match far too much


@functools.cache
def _stemmers() -> tuple[snowballstemmer.stemmer, ...]:
    # Imported on the first query: loading Snowball's stemmers took ~60 ms of the start-up
    # of every command and process that imports the catalog, and most never search.
    import snowballstemmer

    return tuple(snowballstemmer.stemmer(name) for name in STEM_LANGUAGES)


def warm() -> None:
    """Load the stemmers now (a server, as it starts), not in its first search."""
    _stemmers()


@functools.lru_cache(maxsize=4096)
def alternatives(word: str) -> tuple[str, ...]:
    """The prefixes a query word is sought as: the word and its stems in each language,
    without any that another one already covers (a prefix of it)."""
    found = {word}
    if len(word) >= MIN_STEMMED_WORD:
        found |= {s for s in (st.stemWord(word) for st in _stemmers()) if len(s) >= MIN_STEM}
    ordered = sorted(found, key=len)
    kept: list[str] = []
    for candidate in ordered:
        if not any(candidate.startswith(shorter) for shorter in kept):
            kept.append(candidate)
    return tuple(kept)


def query_words(q: str) -> list[str]:
    words: list[str] = []
    for word in fold_words(q):
        if word not in words:
            words.append(word)
    return words[:MAX_QUERY_WORDS]


def fts5_expression(words: list[str]) -> str:
    """The FTS5 query of every word (or one of its stems) as a word prefix."""
    return " AND ".join(
        "(" + " OR ".join('"' + a.replace('"', '""') + '"*' for a in alternatives(w)) + ")"
        for w in words
    )


def match_clause(dialect: str, words: list[str]) -> ColumnElement[bool]:
    """Rows whose name or text holds every query word (or one of its stems) as a word prefix."""
    if dialect == "sqlite":
        matching = (
            select(literal_column("rowid"))
            .select_from(text("asset_fts"))
            .where(text("asset_fts MATCH :fts_query").bindparams(fts_query=fts5_expression(words)))
        )
        return assets.c.id.in_(matching)
    expression = " & ".join(
        "(" + " | ".join("'" + a.replace("'", "''") + "':*" for a in alternatives(w)) + ")"
        for w in words
    )
    vector = literal_column("asset_search.search_vector")
    matching = select(asset_search.c.asset_id).where(
        vector.op("@@")(func.to_tsquery(literal_column("'simple'::regconfig"), expression))
    )
    return assets.c.id.in_(matching)


def score(dialect: str, words: list[str]) -> ColumnElement[int]:
    """Relevance of a matched row: how many query words start a word of its name.

    Every matched row holds all the words somewhere; those that hold them in the name come
    first. The name is on the row being sorted, so no other table is read to rank.
    """
    if not words:  # a query of punctuation only matches nothing; any constant will do
        return literal(0)
    position = func.instr if dialect == "sqlite" else func.strpos
    name = " " + assets.c.search_name
    parts = [
        case((or_(*(position(name, " " + a) > 0 for a in alternatives(word))), 1), else_=0)
        for word in words
    ]
    total: ColumnElement[int] = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
