""" "Did you mean": a misspelt search word replaced by the closest word of the catalog.

The words are the catalog's own (asset names and localities, folded as the full-text index
folds them), so a suggestion always finds something. Closeness is difflib's ratio, computed
in Python over words of about the same length, which gives both databases the same answers.
The word list is read once per catalog version (`max(change_seq)`), only when a search with
words finds nothing.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog import folding
from registry.catalog.version import catalog_version
from registry.catalog.visibility import exported
from registry.core import db
from registry.core.schema import PUBLISHED, assets

MIN_RATIO = 0.75


class CatalogWords:
    """Word -> how many assets use it, bucketed by length, for one catalog version."""

    def __init__(self) -> None:
        self.version = -1
        self.counts: Counter[str] = Counter()
        self.by_length: dict[int, list[str]] = defaultdict(list)

    async def refresh(self, engine: AsyncEngine) -> None:
        async with db.read(engine) as conn:
            latest = await catalog_version(conn)
            if latest == self.version:
                return
            rows = await conn.execute(
                select(assets.c.search_name, assets.c.locality).where(
                    assets.c.deleted_at.is_(None), assets.c.moderation == PUBLISHED, exported()
                )
            )
            counts: Counter[str] = Counter()
            for name, locality in rows:
                counts.update(set(folding.fold_words(name)) | set(folding.fold_words(locality)))
        self.counts = Counter({w: n for w, n in counts.items() if len(w) >= 3})
        self.by_length = defaultdict(list)
        for word in self.counts:
            self.by_length[len(word)].append(word)
        self.version = latest

    def closest(self, word: str) -> str | None:
        if word in self.counts or len(word) < 3:
            return None
        near = [w for n in range(len(word) - 2, len(word) + 3) for w in self.by_length.get(n, [])]
        best = difflib.get_close_matches(word, near, n=5, cutoff=MIN_RATIO)
        if not best:
            return None
        # Among the close ones, the most common wins ties of closeness.
        return max(
            best,
            key=lambda w: (
                round(difflib.SequenceMatcher(None, word, w).ratio(), 2),
                self.counts[w],
            ),
        )


async def did_you_mean(engine: AsyncEngine, q: str, words: CatalogWords) -> str | None:
    """The query with each unknown word replaced by its closest catalog word, or None."""
    await words.refresh(engine)
    asked = folding.fold_words(q)
    fixed = [words.closest(w) or w for w in asked]
    return " ".join(fixed) if fixed != asked else None
