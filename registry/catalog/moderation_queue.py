"""The moderation queue: assets waiting for an admin, and the moderation log."""

from __future__ import annotations

from sqlalchemy import insert, or_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.catalog.store import (
    StoredAsset,
    select_assets,
    stored_from_row,
)
from registry.core import db
from registry.core.schema import PENDING, assets, moderation_log
from vocab.times import utcnow


async def log_moderation(
    conn: AsyncConnection, actor: str, action: str, subject: str, reason: str | None
) -> None:
    await conn.execute(
        insert(moderation_log).values(
            at=utcnow(), actor=actor, action=action, subject=subject, reason=reason
        )
    )


async def moderation_queue(engine: AsyncEngine) -> list[StoredAsset]:
    query = (
        select_assets()
        .where(
            assets.c.deleted_at.is_(None), or_(assets.c.moderation == PENDING, assets.c.has_pending)
        )
        .order_by(assets.c.updated_at, assets.c.id)
    )
    async with db.read(engine) as conn:
        return [stored_from_row(row) for row in await conn.execute(query)]
