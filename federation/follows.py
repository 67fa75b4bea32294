"""Follow state in both directions: who follows this node, and whom this node follows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.actors import RemoteActor
from federation.tables import followers, following
from federation.transactions import forget_remembered
from federation.upserts import upsert

PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"


def _now() -> datetime:
    return datetime.now(UTC)


# -- followers (them -> us) -----------------------------------------------------------------


async def record_follower(
    conn: AsyncConnection, actor: RemoteActor, follow_id: str, state: str
) -> None:
    """Remember a follow request (a repeated Follow replaces the earlier one)."""
    forget_remembered(conn)
    if not actor.inbox:
        raise ValueError(f"{actor.iri} has no inbox")
    decided = _now() if state != PENDING else None
    await upsert(
        conn,
        followers,
        {"actor": actor.iri},
        {
            "host": actor.host,
            "inbox": actor.inbox,
            "shared_inbox": actor.shared_inbox,
            "follow_id": follow_id,
            "state": state,
            "created_at": _now(),
            "decided_at": decided,
        },
    )


async def get_follower(conn: AsyncConnection, actor_iri: str) -> Any:
    return (await conn.execute(select(followers).where(followers.c.actor == actor_iri))).first()


async def decide_follower(conn: AsyncConnection, actor_iri: str, state: str) -> Any:
    """Accept or reject a pending follower; returns the row (None if there is none)."""
    forget_remembered(conn)
    await conn.execute(
        update(followers)
        .where(followers.c.actor == actor_iri)
        .values(state=state, decided_at=_now())
    )
    return await get_follower(conn, actor_iri)


async def remove_follower(
    conn: AsyncConnection, actor_iri: str, follow_id: str | None = None
) -> bool:
    """Undo(Follow): drop the follower (only the follow it undoes, when named)."""
    forget_remembered(conn)
    condition = followers.c.actor == actor_iri
    if follow_id is not None:
        condition &= followers.c.follow_id == follow_id
    return bool((await conn.execute(delete(followers).where(condition))).rowcount)


async def follower_inboxes(conn: AsyncConnection) -> list[str]:
    """Where to deliver public activities: one shared inbox per server where it has one."""
    rows = await conn.execute(
        select(func.coalesce(followers.c.shared_inbox, followers.c.inbox))
        .where(followers.c.state == ACCEPTED)
        .distinct()
    )
    return sorted(row[0] for row in rows)


async def list_followers(conn: AsyncConnection, state: str | None = None) -> list[Any]:
    query = select(followers).order_by(followers.c.id)
    if state is not None:
        query = query.where(followers.c.state == state)
    return list(await conn.execute(query))


async def follower_page(conn: AsyncConnection, *, after_id: int | None, limit: int) -> list[Any]:
    query = select(followers.c.id, followers.c.actor).where(followers.c.state == ACCEPTED)
    if after_id is not None:
        query = query.where(followers.c.id > after_id)
    return list(await conn.execute(query.order_by(followers.c.id).limit(limit)))


async def count(conn: AsyncConnection, table: Any) -> int:
    query = select(func.count()).select_from(table).where(table.c.state == ACCEPTED)
    return (await conn.execute(query)).scalar_one()


# -- following (us -> them) -----------------------------------------------------------------


async def record_following(conn: AsyncConnection, actor: RemoteActor, follow_id: str) -> None:
    forget_remembered(conn)
    await upsert(
        conn,
        following,
        {"actor": actor.iri},
        {
            "host": actor.host,
            "follow_id": follow_id,
            "state": PENDING,
            "created_at": _now(),
            "decided_at": None,
        },
    )


async def answer_following(
    conn: AsyncConnection, actor_iri: str, follow_ref: str | None, state: str
) -> Any:
    """Their Accept/Reject of our Follow; returns the row it changed, or None.

    The answer must come from the actor we followed; when it names our Follow, it must be
    the current one (an Accept of an older, undone follow changes nothing).
    """
    forget_remembered(conn)
    condition = following.c.actor == actor_iri
    if follow_ref is not None:
        condition &= following.c.follow_id == follow_ref
    result = await conn.execute(
        update(following).where(condition).values(state=state, decided_at=_now())
    )
    if not result.rowcount:
        return None
    return (await conn.execute(select(following).where(following.c.actor == actor_iri))).first()


async def get_following(conn: AsyncConnection, actor_iri: str) -> Any:
    return (await conn.execute(select(following).where(following.c.actor == actor_iri))).first()


async def remove_following(conn: AsyncConnection, actor_iri: str) -> Any:
    forget_remembered(conn)
    row = await get_following(conn, actor_iri)
    if row is not None:
        await conn.execute(delete(following).where(following.c.actor == actor_iri))
    return row


async def list_following(conn: AsyncConnection) -> list[Any]:
    return list(await conn.execute(select(following).order_by(following.c.id)))
