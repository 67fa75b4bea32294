"""A page of a partner's changes feed: read, its documents checked, then stored.

Checking (see copy_checks) may run in worker processes while the page before is stored;
storing applies the pages checked meanwhile and moves the checkpoint in one transaction.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update

from federation.fetcher import FetchError, SafeFetcher
from federation.hosts import InvalidHost
from registry.core import db
from registry.core.schema import partners
from registry.fediverse.copy_checks import CopyChecker
from registry.fediverse.copy_reading import CopyRefused, RemoteCopy
from registry.fediverse.federation import Federation
from registry.fediverse.mirror import apply_copies, apply_delete
from registry.fediverse.page_items import BadPage, horizon, page_parts, read_items
from registry.fediverse.partners import Partner
from registry.fediverse.rekeying import rekey_copies, verified_moves


@dataclass
class CheckedPage:
    """A page of the changes feed after its documents were checked, ready to store."""

    copies: list[RemoteCopy]
    deletions: list[tuple[str, datetime | None]]
    moves: list[tuple[str, str]]
    last_seq: int  # the page's highest sequence number (0: none)
    refusals: list[str]
    horizon: int = 0  # as the page announces it (page_items.horizon)
    read_by_worker: bool = field(default=False, compare=False)  # check_page_text's


@dataclass
class PendingPage:
    """A page whose documents are being checked."""

    checked: asyncio.Future[CheckedPage]


# Pages already checked when the store is free are stored together (one write lock, one
# commit): on SQLite storing is what a large sync waits for once its checks run in other
# processes, and much of a page's store was the transaction around it, not its rows.
STORE_TOGETHER = 4


class _Nothing:
    """No page held over (None in the queue is the end of the feed)."""


_NOTHING = _Nothing()


class PagesAhead:
    """The pages a sync has read and submitted for checking, in order: the reader puts each
    (then None at the end of the feed, or the exception that stopped it); the store takes
    them as runs of pages checked by the time it is free."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[PendingPage | Exception | None] = asyncio.Queue(size)
        self.held: PendingPage | Exception | _Nothing | None = _NOTHING  # taken, not stored

    async def put(self, item: PendingPage | Exception | None) -> None:
        await self.queue.put(item)

    async def take(self) -> list[CheckedPage] | None:
        """The next page once checked, with those after it already checked (up to
        STORE_TOGETHER); None at the end of the feed. Raises what stopped the reader."""
        first = await self.queue.get() if self.held is _NOTHING else self.held
        self.held = _NOTHING
        if first is None:
            return None
        if isinstance(first, Exception):
            raise first
        pages = [await first.checked]
        while len(pages) < STORE_TOGETHER and not self.queue.empty():
            following = self.queue.get_nowait()
            if not _checked_well(following):  # stored later, or raised once these are stored
                self.held = following
                break
            pages.append(following.checked.result())  # type: ignore[union-attr]
        return pages

    def cancel(self) -> None:
        """Stop checking the pages not taken."""
        left = [self.held] if isinstance(self.held, PendingPage) else []
        while not self.queue.empty():
            left.append(self.queue.get_nowait())  # type: ignore[arg-type]
        for page in left:
            if isinstance(page, PendingPage):
                page.checked.cancel()


def _checked_well(page: PendingPage | Exception | None) -> bool:
    if not isinstance(page, PendingPage) or not page.checked.done():
        return False
    return not page.checked.cancelled() and page.checked.exception() is None


async def check_page(
    checker: CopyChecker, partner: Partner, page: dict[str, Any], items: list[Any]
) -> PendingPage:
    """Read a page's items (`page_parts` of the parsed page) and submit its documents for
    checking; the page can be stored once `checked` is done, and the next page read
    meanwhile."""
    read = read_items(items, page.get("@context"), partner.host)
    checking = await checker.submit(read.documents)

    async def checked() -> CheckedPage:
        copies, refused = await checking
        return CheckedPage(
            copies,
            read.deletions,
            read.moves,
            read.last_seq,
            read.refusals + refused,
            horizon(page),
        )

    return PendingPage(asyncio.ensure_future(checked()))


def check_page_text(
    checker: CopyChecker, partner: Partner, body: bytes, url: str, next_url: str
) -> PendingPage:
    """A page as fetched, sent whole to a check worker, which parses and reads it too: the
    syncing process then neither parses its documents nor writes them out again for the
    workers. For a page whose Link header named `next_url`, with the pool ready."""
    fetcher = checker.directory.fetcher
    examining = checker.submit_page(body, url, next_url, fetcher.max_json_depth)

    async def checked() -> CheckedPage:
        examined = await examining
        if examined is None:  # the workers failed: read and check it here
            parsed = parsed_page(fetcher, url, body)
            items, _next = page_parts(parsed, url, next_url)
            return await (await check_page(checker, partner, parsed, items)).checked
        page, (copies, refused) = examined
        return CheckedPage(
            copies,
            page.deletions,
            page.moves,
            page.last_seq,
            page.refusals + refused,
            page.horizon,
            read_by_worker=True,
        )

    return PendingPage(asyncio.ensure_future(checked()))


def parsed_page(fetcher: SafeFetcher, url: str, body: bytes) -> Any:
    """A page's body parsed as the fetcher parses JSON; BadPage when it cannot be."""
    try:
        return fetcher.parse_json(url, body)
    except FetchError as exc:
        raise BadPage(str(exc)) from None


async def store_pages(
    federation: Federation, partner: Partner, pages: list[CheckedPage], checkpoint: int
) -> Counter[str]:
    """Apply checked pages, in order, and move the checkpoint to `checkpoint`, in one
    transaction; returns how many copies were created, updated, unchanged, deleted and
    refused. Pages checked while the one before was stored go together: one write lock and
    one commit for all of them."""
    counts: Counter[str] = Counter()
    # A moved asset (its origin says where in the tombstone): re-key the copy like a Move,
    # once the new IRI proves it, instead of deleting it; the Move itself may have been lost.
    rekeyed = await verified_moves(federation.directory, [m for page in pages for m in page.moves])
    async with db.write(federation.engine) as conn:
        await rekey_copies(conn, rekeyed)
        counts.update(await apply_copies(conn, [copy for page in pages for copy in page.copies]))
        for iri, deleted in (deletion for page in pages for deletion in page.deletions):
            if iri in rekeyed:
                continue
            try:
                _what, changed = await apply_delete(conn, iri, from_host=partner.host, at=deleted)
            except (CopyRefused, InvalidHost):
                counts["refused"] += 1
                continue
            counts["deleted"] += int(changed)
        # The checkpoint moves with the pages, in the same transaction: a crash replays
        # nothing and loses nothing.
        await conn.execute(
            update(partners).where(partners.c.id == partner.id).values(checkpoint_seq=checkpoint)
        )
    return counts
