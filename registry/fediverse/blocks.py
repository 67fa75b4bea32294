"""Domain blocks: the federation's blocks.

Blocking a domain refuses its activities and follows (it and every subdomain), removes its
followers and our follows of it, drops what is still queued to or from it, and purges the
assets mirrored from it, all in one transaction with its admin-log entry. Processes learn of
a change through a version number in `node_state`, polled by each process's `DomainBlocklist`;
the inbox's hot path only reads that in-memory set. The worker re-checks the table inside the
transaction that applies an activity, so nothing from a blocked domain is applied once the
block has committed, whatever a process's cache still says.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation.dispatch import Activity
from federation.hosts import InvalidHost, host_of, normalize_host
from federation.inbox import ref
from federation.tables import deliveries, followers, following, inbox_items
from federation.transactions import remembered
from federation.upserts import upsert
from registry.core import db
from registry.core.errors import Unprocessable
from registry.core.schema import (
    LOCAL,
    asset_documents,
    asset_search,
    asset_tags,
    assets,
    domain_blocks,
    node_state,
    partners,
)
from registry.people.accounts import now
from registry.people.admin_log import record
from vocab.times import as_utc, iso

log = logging.getLogger("registry.fediverse.blocks")

VERSION_KEY = "domain_blocks_version"
WATCH_INTERVAL = 2.0  # seconds between checks for blocks made by other processes


@dataclass(frozen=True)
class DomainBlock:
    domain: str
    reason: str
    created_at: datetime
    created_by: str

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "reason": self.reason,
            "created": iso(self.created_at),
            "created_by": self.created_by,
        }


# -- domains ----------------------------------------------------------------------------------


def normalize_domain(value: str) -> str:
    """A domain as blocks store it: IDNA, lower case, no scheme, path, user or `*.` prefix."""
    text = value.strip() if isinstance(value, str) else ""
    text = text.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    text = text.removeprefix("*.").removeprefix(".")
    try:
        return normalize_host(text)
    except InvalidHost as exc:
        raise Unprocessable(
            f"{value!r} is not a domain: {exc}",
            errors=[{"field": "domain", "message": str(exc)}],
        ) from None


def suffixes(host: str) -> list[str]:
    """`a.b.example:8080` -> itself, then `a.b.example`, `b.example`, `example`: every block
    that would cover it (a block with a port covers that port only)."""
    name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    name = name or host
    found = [host] if port else []
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        parts = name.split(".")
        return [*found, *(".".join(parts[i:]) for i in range(len(parts)))]
    return [*found, name]  # an address has no parent domains


def covers(domains: set[str] | frozenset[str], host: str) -> bool:
    """Whether a block of one of `domains` covers `host` (the domain itself or a subdomain)."""
    return bool(domains) and any(s in domains for s in suffixes(host))


def _covered(column: Any, domain: str) -> ColumnElement[bool]:
    """SQL: `column` (a normalised host[:port]) is `domain` or under it."""
    if ":" in domain and not domain.startswith("["):
        return column == domain
    escaped = domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(
        column == domain,
        column.like(f"%.{escaped}", escape="\\"),
        column.like(f"{escaped}:%", escape="\\"),
        column.like(f"%.{escaped}:%", escape="\\"),
    )


def _block(row: Any) -> DomainBlock:
    return DomainBlock(row.domain, row.reason, as_utc(row.created_at), row.created_by)


async def list_domain_blocks(engine: AsyncEngine) -> list[DomainBlock]:
    async with db.read(engine) as conn:
        rows = await conn.execute(select(domain_blocks).order_by(domain_blocks.c.domain))
        return [_block(row) for row in rows]


async def blocked_in_database(conn: AsyncConnection, host: str) -> bool:
    """The authoritative check, inside a transaction (a few primary-key lookups; once per
    host in a batch of inbox activities)."""

    async def ask() -> bool:  # the statement is built only when the batch has no answer yet
        query = select(domain_blocks.c.domain).where(domain_blocks.c.domain.in_(suffixes(host)))
        return (await conn.execute(query.limit(1))).first() is not None

    return await remembered(conn, ("blocked", host), ask)


async def _bump_version(conn: AsyncConnection) -> None:
    await upsert(conn, node_state, {"key": VERSION_KEY}, {"value": secrets.token_hex(8)})


async def _purge(conn: AsyncConnection, domain: str) -> dict[str, int]:
    """Everything held from or queued for `domain` and its subdomains."""
    counts: dict[str, int] = {}
    result = await conn.execute(delete(followers).where(_covered(followers.c.host, domain)))
    counts["followers"] = result.rowcount or 0
    result = await conn.execute(delete(following).where(_covered(following.c.host, domain)))
    counts["following"] = result.rowcount or 0
    result = await conn.execute(delete(partners).where(_covered(partners.c.host, domain)))
    counts["partners"] = result.rowcount or 0
    result = await conn.execute(
        update(deliveries)
        .where(_covered(deliveries.c.host, domain), deliveries.c.state == "pending")
        .values(state="dead", last_error=f"{domain} is blocked", locked_by=None)
    )
    counts["deliveries"] = result.rowcount or 0
    result = await conn.execute(
        update(inbox_items)
        .where(_covered(inbox_items.c.host, domain), inbox_items.c.state == "pending")
        .values(state="ignored", result=f"{domain} is blocked", locked_by=None)
    )
    counts["inbox"] = result.rowcount or 0
    mirrored = select(assets.c.id).where(
        assets.c.origin != LOCAL, _covered(assets.c.origin, domain)
    )
    ids = [row.id for row in await conn.execute(mirrored)]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        # Explicitly, child tables first: the full-text triggers see each removal.
        for table in (asset_search, asset_tags, asset_documents):
            await conn.execute(delete(table).where(table.c.asset_id.in_(chunk)))
        await conn.execute(delete(assets).where(assets.c.id.in_(chunk)))
    counts["assets"] = len(ids)
    return counts


async def block_domain(engine: AsyncEngine, domain: str, *, reason: str, by: str) -> DomainBlock:
    """Block `domain` and its subdomains, and purge what the node holds from them.

    Blocking a domain already blocked updates the reason and purges again (harmless).
    """
    name = normalize_domain(domain)
    reason = (reason or "").strip()[:2000]
    async with db.write(engine) as conn:
        existing = (
            await conn.execute(select(domain_blocks).where(domain_blocks.c.domain == name))
        ).first()
        if existing is None:
            await conn.execute(
                insert(domain_blocks).values(
                    domain=name, reason=reason, created_at=now(), created_by=by[:200]
                )
            )
        else:
            await conn.execute(
                update(domain_blocks).where(domain_blocks.c.domain == name).values(reason=reason)
            )
        counts = await _purge(conn, name)
        await _bump_version(conn)
        purged = ", ".join(f"{n} {what}" for what, n in counts.items() if n) or "nothing held"
        detail = f"{reason or 'no reason given'}; purged: {purged}"
        await record(conn, by, "domain.block", name, detail)
        row = (
            await conn.execute(select(domain_blocks).where(domain_blocks.c.domain == name))
        ).one()
    log.info("blocked %s (%s)", name, detail)
    await _refresh_local(engine)
    return _block(row)


async def unblock_domain(engine: AsyncEngine, domain: str, *, by: str) -> bool:
    """Lift a block; False when the domain was not blocked. Purged data does not come back
    by itself: re-follow the node or add it as a partner again."""
    name = normalize_domain(domain)
    async with db.write(engine) as conn:
        result = await conn.execute(delete(domain_blocks).where(domain_blocks.c.domain == name))
        if not result.rowcount:
            return False
        await _bump_version(conn)
        await record(conn, by, "domain.unblock", name)
    await _refresh_local(engine)
    return True


_IN_THIS_PROCESS: weakref.WeakSet[DomainBlocklist] = weakref.WeakSet()


async def _refresh_local(engine: AsyncEngine) -> None:
    """A change made in this process shows in this process at once (the web UI, the API);
    other processes see it at their next check."""
    for blocklist in list(_IN_THIS_PROCESS):
        if blocklist.engine is engine:
            await blocklist.refresh()


class DomainBlocklist:
    """This process's copy of the blocked domains, kept in step with the database."""

    def __init__(self, engine: AsyncEngine, interval: float = WATCH_INTERVAL) -> None:
        self.engine = engine
        self.interval = interval
        self.domains: frozenset[str] = frozenset()
        self.version: str | None = None
        self._task: asyncio.Task[None] | None = None
        _IN_THIS_PROCESS.add(self)

    def covers(self, host: str) -> bool:
        return covers(self.domains, host)

    async def refresh(self, *, force: bool = False) -> bool:
        """Reload when another process (or this one) changed the blocks; True if reloaded."""
        async with db.read(self.engine) as conn:
            version = (
                await conn.execute(
                    select(node_state.c.value).where(node_state.c.key == VERSION_KEY)
                )
            ).scalar()
            if version == self.version and not force:
                return False
            rows = await conn.execute(select(domain_blocks.c.domain))
            self.domains = frozenset(row.domain for row in rows)
        self.version = version
        return True

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.refresh()
            except Exception:  # a database hiccup must not end the watch
                log.exception("reloading the domain blocks failed")

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


@dataclass(frozen=True)
class BlockGuard:
    """Nothing from, or about, a blocked domain is handled. `refuse` reads this process's
    cached blocklist before any fetch (nothing is asked of a blocked host); `refuse_in` reads
    the table inside the applying transaction, so a block committed by any process wins."""

    blocked: Callable[[str], bool]

    def refuse(self, activity: Activity) -> str | None:
        for host in _hosts_of(activity):
            if self.blocked(host):
                return f"{host} is blocked"
        return None

    async def refuse_in(self, conn: AsyncConnection, activity: Activity) -> str | None:
        for host in _hosts_of(activity):
            if self.blocked(host) or await blocked_in_database(conn, host):
                return f"{host} is blocked"
        return None


def _hosts_of(activity: Activity) -> list[str]:
    """The sender's host, and the object's when it lives elsewhere (an Announce)."""
    hosts = [activity.host]
    object_id = ref(activity.object)
    if object_id:
        with contextlib.suppress(InvalidHost):
            other = host_of(object_id)
            if other != activity.host:
                hosts.append(other)
    return hosts
