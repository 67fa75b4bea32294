"""The admin log: who did what to whom, written in the same transaction as the act itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.core import db
from registry.core.schema import admin_log
from vocab.times import as_utc, iso, utcnow


@dataclass(frozen=True)
class AdminLogEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": iso(self.at),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "detail": self.detail,
        }


async def record(
    conn: AsyncConnection, actor: str, action: str, target: str, detail: str = ""
) -> None:
    """Add an entry to the admin log, in the caller's transaction."""
    await conn.execute(
        insert(admin_log).values(
            at=utcnow(), actor=actor[:200], action=action[:64], target=target[:2048], detail=detail
        )
    )


async def list_admin_log(
    engine: AsyncEngine, *, limit: int = 100, before: int | None = None, action: str | None = None
) -> list[AdminLogEntry]:
    """Newest first; `before` is the id to continue from."""
    query = select(admin_log).order_by(admin_log.c.id.desc()).limit(max(1, min(limit, 500)))
    if before is not None:
        query = query.where(admin_log.c.id < before)
    if action is not None:
        query = query.where(admin_log.c.action == action)
    async with db.read(engine) as conn:
        return [
            AdminLogEntry(r.id, as_utc(r.at), r.actor, r.action, r.target, r.detail)
            for r in await conn.execute(query)
        ]
