"""Pull repair: bring the copies of a partner's catalog up to date from its changes feed.

The first sync is the backfill: the feed from 0 lists every live asset and every remembered
deletion. Each page is applied, together with the new checkpoint, in one transaction, so a
sync killed half-way resumes after the last page it finished and never applies a page twice.
A partner whose feed horizon has passed our checkpoint may have forgotten deletions we never
saw; then its whole catalog is listed and copies it no longer has are deleted, but only when
the listing completed, and only if that does not delete more than the guard allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import select, update

from federation.fetcher import FetchError, FetchResult, HttpStatusError
from federation.tables import following
from registry.catalog.changes import purge_tombstones
from registry.core import db
from registry.core.schema import assets, partners
from registry.fediverse.copy_checks import CheckPool, CopyChecker, worker_count
from registry.fediverse.copy_reading import CopyRefused, on_host
from registry.fediverse.federation import Federation
from registry.fediverse.feed_pages import (
    PagesAhead,
    check_page,
    check_page_text,
    parsed_page,
    store_pages,
)
from registry.fediverse.mirror import apply_delete
from registry.fediverse.page_items import SyncError, next_link, page_parts
from registry.fediverse.partners import Partner, list_partners, record_failure
from vocab.times import utcnow

log = logging.getLogger("registry.fediverse.sync")

PAGES_AHEAD = 4  # pages read and being checked while one is stored
MAX_PAGES = 100_000  # a crawl trap cannot keep a sync going forever
MAX_WAITS = 5  # Retry-After answers honoured per page before the sync gives up for now
MAX_WAIT_SECONDS = 300


@dataclass
class SyncReport:
    partner: str
    pages: int = 0
    pages_read_by_workers: int = 0  # sent whole to a check worker, not parsed here
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    refused: int = 0
    full_diff: bool = False
    diff_deleted: int = 0
    checkpoint: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        diff = f", full comparison deleted {self.diff_deleted}" if self.full_diff else ""
        return (
            f"{self.partner}: {self.pages} pages, {self.created} created, {self.updated} "
            f"updated, {self.deleted} deleted, {self.unchanged} unchanged, {self.refused} "
            f"refused{diff} in {self.seconds:.2f} s (checkpoint {self.checkpoint})"
        )


async def _get_page(federation: Federation, url: str) -> FetchResult:
    """One page as sent (not parsed), honouring 429/503 Retry-After a few times."""
    for _ in range(MAX_WAITS + 1):
        try:
            return await federation.fetcher.get_json_text(url)
        except HttpStatusError as exc:
            if exc.status not in (429, 503):
                raise SyncError(f"{url}: HTTP {exc.status}") from None
            wait = min(exc.retry_after or 5.0, MAX_WAIT_SECONDS)
            log.info("%s asks to wait %.0f s (HTTP %s)", url, wait, exc.status)
            await asyncio.sleep(wait)
        except FetchError as exc:
            raise SyncError(f"{url}: {exc}") from None
    raise SyncError(f"{url}: still busy after {MAX_WAITS} waits")


async def _get_parsed(federation: Federation, url: str) -> Any:
    return parsed_page(federation.fetcher, url, (await _get_page(federation, url)).data)


def _fetch(
    federation: Federation, partner: Partner, url: str | None, seen: set[str]
) -> asyncio.Task[tuple[FetchResult, str]] | None:
    """Start fetching the feed page at `url` (None at the end of the feed). A loop or a page
    off the partner's host raises when the task is awaited, after the page before it."""
    if url is None:
        return None

    async def get() -> tuple[FetchResult, str]:
        if url in seen or len(seen) >= MAX_PAGES:
            raise SyncError(f"the changes feed of {partner.host} loops or never ends at {url}")
        seen.add(url)
        if not on_host(url, partner.host):
            raise SyncError(f"the changes feed of {partner.host} leads off-host to {url}")
        return await _get_page(federation, url), url

    return asyncio.create_task(get())


def check_pool(federation: Federation) -> CheckPool:
    """Worker processes for a round of syncs, as `mirror.check_processes` says."""
    return CheckPool(worker_count(federation.settings.mirror.check_processes))


def _count_refusals(report: SyncReport, refusals: list[str]) -> None:
    report.refused += len(refusals)
    report.errors += refusals[: max(0, 20 - len(report.errors))]


async def sync_partner(
    federation: Federation,
    partner: Partner,
    *,
    force: bool = False,
    progress: Callable[[SyncReport], None] | None = None,
    pool: CheckPool | None = None,
) -> SyncReport:
    """Apply everything the partner's changes feed lists after our checkpoint. `pool` checks
    the copies of large pages in worker processes; without it the sync starts its own."""
    started = time.monotonic()
    report = SyncReport(partner=partner.host, checkpoint=partner.checkpoint_seq)
    url: str | None = f"{partner.changes_url}?since={partner.checkpoint_seq}"
    seen_urls: set[str] = set()
    horizon = 0
    own_pool = pool is None
    pool = pool or check_pool(federation)
    if partner.backfilled_at is None:
        # A first sync is a backfill, large as a rule: the workers start now, beside the
        # first fetches, instead of when the first page is in (until they are up, pages
        # are checked in this process, which also stores them).
        pool.start()
    checker = CopyChecker(federation.directory, partner.host, pool)
    # Pipelined: the reader fetches pages and submits their documents for checking (in
    # worker processes on a large sync) up to PAGES_AHEAD pages ahead of those stored.
    ahead = PagesAhead(PAGES_AHEAD)

    async def read_pages() -> None:
        fetching = _fetch(federation, partner, url, seen_urls)
        try:
            while fetching is not None:
                fetched, page_url = await fetching
                next_url = next_link(fetched.headers.get("link"), fetched.url_final)
                if next_url is not None and checker.pool.ready:
                    # The next page is known unparsed: this one goes whole to a worker.
                    fetching = _fetch(federation, partner, next_url, seen_urls)
                    pending = check_page_text(checker, partner, fetched.data, page_url, next_url)
                else:
                    page = parsed_page(federation.fetcher, page_url, fetched.data)
                    items, next_url = page_parts(page, page_url, next_url)
                    fetching = _fetch(federation, partner, next_url, seen_urls)
                    pending = await check_page(checker, partner, page, items)
                await ahead.put(pending)
            await ahead.put(None)
        except Exception as exc:  # raised after the pages before it are stored
            await ahead.put(exc)
        finally:
            if fetching is not None:  # a failed page: the fetch ahead is not wanted any more
                fetching.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetching

    reader = asyncio.create_task(read_pages())
    try:
        while (pages := await ahead.take()) is not None:
            for checked in pages:
                _count_refusals(report, checked.refusals)
                horizon = max(horizon, checked.horizon)
                report.pages_read_by_workers += checked.read_by_worker
                report.checkpoint = max(report.checkpoint, checked.last_seq)
            counts = await store_pages(federation, partner, pages, report.checkpoint)
            report.created += counts["created"]
            report.updated += counts["updated"]
            report.unchanged += counts["unchanged"]
            report.deleted += counts["deleted"]
            report.refused += counts["refused"]
            report.pages += len(pages)
            if progress is not None:
                progress(report)
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        ahead.cancel()  # pages checked ahead of a failure are not stored
        if own_pool:
            pool.close()
    if horizon > partner.checkpoint_seq and partner.backfilled_at is not None:
        # Deletions between our checkpoint and the horizon may be forgotten by the partner.
        await _full_diff(federation, partner, report, force=force)
    if report.created > 1000:  # a backfill: fresh statistics keep search plans right
        try:
            await db.analyze(federation.engine)
        except Exception:  # the copies are stored: a refinement that failed fails no sync
            log.exception("refreshing the statistics after the sync with %s failed", partner.host)
    # Before it is stored: the kept report said 0.0 s.
    report.seconds = time.monotonic() - started
    async with db.write(federation.engine) as conn:
        await conn.execute(
            update(partners)
            .where(partners.c.id == partner.id)
            .values(
                last_sync_at=utcnow(),
                last_sync_error=None,
                sync_requested_at=None,
                backfilled_at=partner.backfilled_at or utcnow(),
                last_sync_report=orjson.dumps(asdict(report)).decode(),
                unreachable_since=None,
            )
        )
    log.info("sync %s", report.line())
    return report


async def _full_diff(
    federation: Federation, partner: Partner, report: SyncReport, *, force: bool
) -> None:
    """Delete copies the partner no longer lists, after a complete listing only."""
    report.full_diff = True
    listed: set[str] = set()
    first = await _get_parsed(federation, partner.catalog_url)
    url = first.get("first") if isinstance(first, dict) else None
    if not isinstance(url, str):
        raise SyncError(f"the catalog of {partner.host} has no first page")
    seen: set[str] = set()
    while url is not None:
        if url in seen or len(seen) >= MAX_PAGES or not on_host(url, partner.host):
            raise SyncError(f"the catalog of {partner.host} loops or leaves its host at {url}")
        seen.add(url)
        items, url = page_parts(await _get_parsed(federation, url), url)
        listed.update(i for i in items if isinstance(i, str))
    async with db.read(federation.engine) as conn:
        held = {
            row.iri
            for row in await conn.execute(
                select(assets.c.iri).where(
                    assets.c.origin == partner.host, assets.c.deleted_at.is_(None)
                )
            )
        }
    gone = held - listed
    limit = federation.settings.mirror.mass_delete_guard_percent / 100
    if held and len(gone) > limit * len(held) and not force:
        raise SyncError(
            f"the full comparison with {partner.host} would delete {len(gone)} of {len(held)} "
            "copies; check the partner, then run `commons-registry sync --force`"
        )
    async with db.write(federation.engine) as conn:
        for iri in sorted(gone):
            _what, changed = await apply_delete(conn, iri, from_host=partner.host)
            report.diff_deleted += int(changed)


async def due_partners(federation: Federation, worker_id: str) -> list[Partner]:
    """Partners to pull from now (asked for, or not pulled for a sync interval), leased."""
    now = utcnow()
    interval = timedelta(minutes=federation.settings.mirror.sync_interval_minutes)
    async with db.write(federation.engine) as conn:
        accepted = {
            row.actor
            for row in await conn.execute(
                select(following.c.actor).where(following.c.state == "accepted")
            )
        }
        rows = list(
            await conn.execute(
                select(partners).where(
                    (partners.c.locked_until.is_(None)) | (partners.c.locked_until < now)
                )
            )
        )
        due = [
            row.id
            for row in rows
            if row.actor in accepted
            and (
                row.sync_requested_at is not None
                or row.last_sync_at is None
                or row.last_sync_at.replace(tzinfo=now.tzinfo) < now - interval
            )
        ]
        if due:
            await conn.execute(
                update(partners)
                .where(partners.c.id.in_(due))
                .values(locked_by=worker_id, locked_until=now + sync_lease(federation))
            )
    return [p for p in await list_partners(federation.engine) if p.id in due]


def sync_lease(federation: Federation) -> timedelta:
    return timedelta(seconds=federation.settings.mirror.sync_lease_seconds)


@contextlib.asynccontextmanager
async def renewing_leases(federation: Federation, worker_id: str) -> AsyncIterator[None]:
    """Keep this worker's partner leases alive while it works, renewing them every third of
    the lease. A process killed with `kill -9` stops renewing, so its leases run out within
    one lease time and the restarted node (or another worker) resumes the sync by itself."""
    lease = sync_lease(federation)

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                async with db.write(federation.engine) as conn:
                    await conn.execute(
                        update(partners)
                        .where(partners.c.locked_by == worker_id)
                        .values(locked_until=utcnow() + lease)
                    )
            except Exception:  # a missed renewal is retried; the lease has slack for two
                log.exception("renewing the sync leases of %s failed", worker_id)

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class SyncWorker:
    """Pulls from partners in the background: on acceptance, then every sync interval."""

    def __init__(self, federation: Federation, worker_id: str, poll: float = 2.0) -> None:
        self.federation = federation
        self.worker_id = worker_id
        self.poll = poll
        self.last_purge = 0.0

    async def run_once(self) -> int:
        claimed = await due_partners(self.federation, self.worker_id)
        pool = check_pool(self.federation)
        try:
            async with renewing_leases(self.federation, self.worker_id):
                for partner in claimed:
                    await self._sync_one(partner, pool)
        finally:
            pool.close()
        if time.monotonic() - self.last_purge > 3600:
            self.last_purge = time.monotonic()
            window = timedelta(days=self.federation.settings.mirror.tombstone_days)
            async with db.write(self.federation.engine) as conn:
                purged = await purge_tombstones(conn, window)
            if purged:
                log.info("forgot %d deletions older than %s", purged, window)
        return len(claimed)

    async def _sync_one(self, partner: Partner, pool: CheckPool) -> None:
        try:
            await sync_partner(self.federation, partner, pool=pool)
        except (SyncError, CopyRefused) as exc:
            log.warning("sync with %s failed: %s", partner.host, exc)
            await record_failure(self.federation.engine, partner.id, str(exc))
        except Exception as exc:
            log.exception("sync with %s failed", partner.host)
            await record_failure(self.federation.engine, partner.id, f"{type(exc).__name__}: {exc}")
        finally:
            async with db.write(self.federation.engine) as conn:
                await conn.execute(
                    update(partners)
                    .where(partners.c.id == partner.id, partners.c.locked_by == self.worker_id)
                    .values(locked_by=None, locked_until=None)
                )

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("sync round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll)
