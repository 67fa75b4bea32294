"""The reference order a search's pages must follow: every match of a query, ordered in one
statement (what the faster page picks of registry.catalog.search are checked against)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog.search import filter_conditions, search
from registry.catalog.search_query import SearchQuery
from registry.core import db
from registry.core.schema import assets


async def ordered_ids(engine: AsyncEngine, query: SearchQuery, *order: Any) -> list[int]:
    """The ids of every asset `query` matches, in `order`."""
    statement = (
        select(assets.c.id).where(*filter_conditions(query, engine.dialect.name)).order_by(*order)
    )
    async with db.read(engine) as conn:
        return [row.id for row in await conn.execute(statement)]


async def ids_by_cursor(engine: AsyncEngine, query: SearchQuery) -> list[int]:
    """The ids of every page of `query`, following its cursors to the last page."""
    found: list[int] = []
    cursor = None
    while True:
        page = await search(engine, replace(query, cursor=cursor))
        found += [item.id for item in page.items]
        if not (cursor := page.next_cursor):
            return found
