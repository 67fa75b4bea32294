"""A search's facet counts (per kind, country and status): counted from the matching rows,
kept while the catalog stays as it is, and on PostgreSQL counted in the same read of the
matches as a relevance page.

PostgreSQL ranks a full-text page in one statement, which reads every match (its GIN index
gives them in no order, registry.catalog.ranked_pick); the facets read the same matches
again. Where every match is read anyway, one statement reads them once, keeps the ranked
page and counts the facets: at a million assets each match costs a read of its `asset_search`
row and an `assets` lookup, so a word matching 2,000 assets was paid twice.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.catalog.search_query import FACETS, SearchQuery
from registry.catalog.version import catalog_version
from registry.core.schema import PUBLISHED, assets

Facets = dict[str, dict[str, int]]
Counted = tuple[Facets, bool]  # the counts, and whether they are exact
CacheKey = tuple[str, int, int | None]


class FacetCache:
    """Facet counts of recent queries, valid while no asset changes (by change_seq).

    Counting facets means reading every matching row, which for a broad query (the home page,
    a whole country) costs far more than the page itself; the counts only move when a write
    moves `max(change_seq)`, and every write that changes what is published does.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.entries: OrderedDict[CacheKey, Counted] = OrderedDict()

    def get(self, key: CacheKey) -> Counted | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: CacheKey, counted: Counted) -> None:
        self.entries[key] = counted
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)


async def cache_key(
    conn: AsyncConnection, query: SearchQuery, limit: int | None
) -> CacheKey | None:
    """What a query's counts are kept under (the published catalog only), or None."""
    if query.moderation != PUBLISHED:
        return None
    fingerprint = replace(query, sort="", limit=0, cursor=None).fingerprint()
    return fingerprint, await catalog_version(conn), limit


def _tally(groups: Iterable[Sequence[Any]], limit: int | None) -> Counted:
    """Counts from (kind, country, status, n) groups; exact unless more than `limit` rows."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    read = 0
    for *values, n in groups:
        read += n
        for name, value in zip(FACETS, values, strict=True):
            if value is not None:
                counts[name][value] += n
    exact = limit is None or read <= limit
    return {name: dict(counter.most_common()) for name, counter in counts.items()}, exact


async def facet_counts(
    conn: AsyncConnection, conditions: list[Any], limit: int | None = None
) -> Counted:
    """Counts per kind, country and status, from one pass over the matching rows, and
    whether they are exact. With a `limit`, at most that many rows and one more are read:
    past it the counts are lower bounds (those of the rows read), and not exact."""
    columns = list(FACETS.values())
    if limit is None:
        rows = await conn.execute(
            select(*columns, func.count()).where(*conditions).group_by(*columns)
        )
    else:
        first = select(*columns).where(*conditions).limit(limit + 1).subquery()
        rows = await conn.execute(select(*first.c, func.count()).group_by(*first.c))
    return _tally(rows, limit)


async def ranked_page_and_facets(
    conn: AsyncConnection,
    query: SearchQuery,
    conditions: list[Any],
    score: ColumnElement[Any],
    limit: int,
) -> tuple[list[Any] | None, Counted]:
    """A first relevance page (rows of id and sort_key, the row after the page included) and
    the facets, from one read of at most `limit` + 1 matches. Past `limit` the page is None:
    the matches read were not all of them, so the caller ranks the page on its own."""
    matched = (
        select(assets.c.id, score.label("sort_key"), *FACETS.values())
        .where(*conditions)
        .limit(limit + 1)
        .cte("matched")
    )
    page = (
        select(matched.c.id, matched.c.sort_key)
        .order_by(matched.c.sort_key.desc(), matched.c.id.desc())
        .limit(query.limit + 1)
        .offset(query.offset or None)
        .subquery()
    )
    groups = [matched.c[name] for name in FACETS]
    statement = union_all(
        select(page.c.id, page.c.sort_key, *(null() for _ in FACETS), literal(0)),
        select(null(), null(), *groups, func.count()).group_by(*groups),
    )
    picked, counts = [], []
    for row in await conn.execute(statement):
        if row[0] is None:
            counts.append(row[2:])
        else:
            picked.append(row)
    counted = _tally(counts, limit)
    if not counted[1]:
        return None, counted
    picked.sort(key=lambda row: (row.sort_key, row.id), reverse=True)
    return picked, counted
