"""The catalog's version, `max(change_seq)`: every write that changes what is published moves
it (registry.catalog.store numbers each change), so whatever is computed from the catalog
(facet counts, the map layer, the word list, cached documents) stays valid while it does not.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.core import db
from registry.core.schema import assets


async def catalog_version(conn: AsyncConnection) -> int:
    """The version, read in the caller's transaction."""
    return (await conn.execute(select(func.max(assets.c.change_seq)))).scalar() or 0


async def read_catalog_version(engine: AsyncEngine) -> int:
    async with db.read(engine) as conn:
        return await catalog_version(conn)
