"""The outbox: what this node published, and the queue of deliveries it owes.

`publish` runs inside the caller's transaction (the outbox pattern): the change to the
application's data, the activity and its deliveries commit together or not at all, so a
crash can neither lose a delivery nor announce a change that was rolled back. The delivery
worker (`federation.delivery`) sends them afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.hosts import InvalidHost, host_of
from federation.tables import deliveries, outbox

log = logging.getLogger("federation.outbox")


def _type_of(activity: dict[str, Any]) -> str:
    kind = activity.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if isinstance(k, str)), None)
    if not isinstance(kind, str) or not kind:
        raise ValueError("an activity needs a type")
    return kind


def _object_id(activity: dict[str, Any]) -> str | None:
    target = activity.get("object")
    if isinstance(target, dict):
        target = target.get("id")
    return target if isinstance(target, str) else None


def delivery_targets(inboxes: Iterable[str]) -> list[tuple[str, str]]:
    """(inbox, host) for each distinct inbox, in first-seen order; unusable URLs are skipped
    with a warning rather than failing the caller's transaction over one bad follower."""
    targets: dict[str, str] = {}
    for inbox in inboxes:
        if not isinstance(inbox, str) or inbox in targets:
            continue
        try:
            targets[inbox] = host_of(inbox)
        except InvalidHost as exc:
            log.warning("not delivering to %r: %s", inbox, exc)
    return list(targets.items())


async def publish(
    conn: AsyncConnection,
    activity: dict[str, Any],
    inboxes: Iterable[str],
    *,
    public: bool,
    now: datetime | None = None,
) -> int:
    """Store `activity` and one delivery per distinct inbox, in the caller's transaction.

    Returns the outbox id. The activity's `id` must be new (it is unique in the outbox).
    Call the delivery worker's `wake()` after the commit for an immediate send.
    """
    activity_id = activity.get("id")
    if not isinstance(activity_id, str) or not activity_id:
        raise ValueError("an activity needs an id")
    now = now or datetime.now(UTC)
    outbox_id = (
        await conn.execute(
            insert(outbox)
            .values(
                activity_id=activity_id,
                type=_type_of(activity),
                object_id=_object_id(activity),
                body=orjson.dumps(activity).decode("utf-8"),
                public=public,
                published_at=now,
            )
            .returning(outbox.c.id)
        )
    ).scalar_one()
    rows = [
        {
            "outbox_id": outbox_id,
            "inbox": inbox,
            "host": host,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for inbox, host in delivery_targets(inboxes)
    ]
    if rows:  # one executemany, however many followers
        await conn.execute(insert(deliveries), rows)
    return int(outbox_id)


async def outbox_page(
    conn: AsyncConnection, *, before_id: int | None, limit: int, public_only: bool = True
) -> tuple[list[dict[str, Any]], int | None]:
    """Activities newest first, `limit` of them with ids below `before_id` (keyset paging).

    Returns the activities and the cursor of the next page (None on the last page).
    """
    query = select(outbox.c.id, outbox.c.body).order_by(outbox.c.id.desc()).limit(limit + 1)
    if public_only:
        query = query.where(outbox.c.public)
    if before_id is not None:
        query = query.where(outbox.c.id < before_id)
    rows = (await conn.execute(query)).all()
    page = rows[:limit]
    cursor = page[-1].id if len(rows) > limit and page else None
    return [orjson.loads(row.body) for row in page], cursor


async def outbox_total(conn: AsyncConnection, *, public_only: bool = True) -> int:
    query = select(func.count()).select_from(outbox)
    if public_only:
        query = query.where(outbox.c.public)
    return int((await conn.execute(query)).scalar_one())
