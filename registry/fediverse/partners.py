"""Partner nodes: the registries whose catalogs this node mirrors.

Adding a partner resolves its node actor (NodeInfo's Application link, or WebFinger), finds
the feeds it offers for pulling (NodeInfo metadata), follows it, and remembers it. When the
partner accepts, a sync is requested; the sync worker crawls its whole catalog from there.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation.actors import ActorError, RemoteActor
from federation.fetcher import JRD_CONTENT_TYPES, FetchError
from federation.hosts import InvalidHost, normalize_host
from registry.core import db, iris
from registry.core.errors import Conflict, NotFound, Unprocessable
from registry.core.schema import partners
from registry.fediverse import following
from registry.fediverse.federation import Federation
from vocab.times import as_utc, iso, utcnow


@dataclass(frozen=True)
class Partner:
    id: int
    actor: str
    host: str
    name: str | None
    changes_url: str
    catalog_url: str
    checkpoint_seq: int
    backfilled_at: datetime | None
    last_sync_at: datetime | None
    last_sync_error: str | None
    follow_state: str | None
    unreachable_since: datetime | None = None  # the first failed sync since the last good one

    def to_json(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "host": self.host,
            "name": self.name,
            "follow": self.follow_state,
            "checkpoint": self.checkpoint_seq,
            "backfilled": iso(self.backfilled_at),
            "last_sync": iso(self.last_sync_at),
            "last_error": self.last_sync_error,
            "unreachable_since": iso(self.unreachable_since),
        }


def _partner(row: Any, follow_state: str | None = None) -> Partner:
    return Partner(
        row.id,
        row.actor,
        row.host,
        row.name,
        row.changes_url,
        row.catalog_url,
        row.checkpoint_seq,
        as_utc(row.backfilled_at) if row.backfilled_at else None,
        as_utc(row.last_sync_at) if row.last_sync_at else None,
        row.last_sync_error,
        follow_state,
        as_utc(row.unreachable_since) if row.unreachable_since else None,
    )


async def _feeds(federation: Federation, actor: RemoteActor) -> tuple[str, str]:
    """Where the partner's changes feed and catalog are (NodeInfo metadata, else defaults)."""
    origin = actor.iri.split("/", 3)
    base = "/".join(origin[:3])
    fetcher = federation.fetcher
    try:
        links = (
            await fetcher.get_json(
                iris.nodeinfo_links(base),
                accept="application/json",
                content_types=JRD_CONTENT_TYPES,
                sign=False,
            )
        ).data
        href = next(
            link["href"]
            for link in links["links"]
            if "nodeinfo.diaspora.software/ns/schema/2" in link.get("rel", "")
        )
        info = (
            await fetcher.get_json(
                href, accept="application/json", content_types={"application/json"}, sign=False
            )
        ).data
        feeds = info["metadata"]["commonsRegistry"]
        return str(feeds["changes"]), str(feeds["catalog"])
    except (FetchError, KeyError, StopIteration, TypeError):
        return iris.changes(base), iris.catalog(base)


async def add(federation: Federation, target: str) -> Partner:
    """Resolve, follow and remember a partner node."""
    try:
        actor = await federation.directory.resolve(target)
    except ActorError as exc:
        raise Unprocessable(f"cannot find a node at {target}: {exc}") from None
    changes_url, catalog_url = await _feeds(federation, actor)
    async with db.write(federation.engine) as conn:
        existing = (
            await conn.execute(
                select(partners.c.id).where(
                    (partners.c.actor == actor.iri) | (partners.c.host == actor.host)
                )
            )
        ).first()
        if existing is not None:
            raise Conflict(f"{actor.host} is already a partner")
        await conn.execute(
            insert(partners).values(
                actor=actor.iri,
                host=actor.host,
                name=actor.name or actor.preferred_username,
                changes_url=changes_url,
                catalog_url=catalog_url,
                added_at=utcnow(),
            )
        )
    federation.partner_hosts.add(actor.host)
    try:
        await following.follow(federation, actor.iri)
    except Exception:
        async with db.write(federation.engine) as conn:
            await conn.execute(delete(partners).where(partners.c.actor == actor.iri))
        federation.partner_hosts.discard(actor.host)
        raise
    return await get(federation.engine, actor.iri)


async def remove(federation: Federation, target: str) -> str:
    partner = await find(federation.engine, target)
    async with db.write(federation.engine) as conn:
        await conn.execute(delete(partners).where(partners.c.id == partner.id))
    federation.partner_hosts.discard(partner.host)
    with contextlib.suppress(NotFound):  # already unfollowed
        await following.unfollow(federation, partner.actor)
    return partner.actor


async def list_partners(engine: AsyncEngine) -> list[Partner]:
    from federation.tables import following as following_table

    query = (
        select(partners, following_table.c.state.label("follow_state"))
        .select_from(
            partners.outerjoin(following_table, following_table.c.actor == partners.c.actor)
        )
        .order_by(partners.c.host)
    )
    async with db.read(engine) as conn:
        return [_partner(row, row.follow_state) for row in await conn.execute(query)]


async def get(engine: AsyncEngine, actor: str) -> Partner:
    for partner in await list_partners(engine):
        if partner.actor == actor:
            return partner
    raise NotFound(f"{actor} is not a partner")


async def find(engine: AsyncEngine, target: str) -> Partner:
    """A partner by actor URL, host, or node URL."""
    try:
        host = normalize_host(
            target.split("://", 1)[-1].split("/", 1)[0].lstrip("@").rsplit("@", 1)[-1]
        )
    except InvalidHost:
        host = None
    for partner in await list_partners(engine):
        if target in (partner.actor, partner.host) or partner.host == host:
            return partner
    raise NotFound(f"{target} is not a partner")


async def request_sync(conn: AsyncConnection, actor: str) -> None:
    """Ask the sync worker to pull from this partner soon (e.g. when it accepts us)."""
    await conn.execute(
        update(partners).where(partners.c.actor == actor).values(sync_requested_at=utcnow())
    )


async def hosts(engine: AsyncEngine) -> set[str]:
    async with db.read(engine) as conn:
        return {row.host for row in await conn.execute(select(partners.c.host))}


async def record_failure(engine: AsyncEngine, partner_id: int, error: str) -> None:
    """A failed sync: its error kept, and since when the partner has not answered."""
    async with db.write(engine) as conn:
        await conn.execute(
            update(partners)
            .where(partners.c.id == partner_id)
            .values(
                last_sync_at=utcnow(),
                last_sync_error=error[:2000],
                sync_requested_at=None,
                # Kept from the first failure on, so "unreachable since" is when it went quiet.
                unreachable_since=func.coalesce(partners.c.unreachable_since, utcnow()),
            )
        )
