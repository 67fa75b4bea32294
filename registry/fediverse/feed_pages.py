"""A page of a partner's changes feed: read, its documents checked, then stored.

Checking (see copy_checks) may run in worker processes while the page before is stored;
storing applies the pages checked meanwhile and moves the checkpoint in one transaction.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update

from federation.hosts import InvalidHost
from registry.core import db
from registry.core.schema import partners
from registry.fediverse.copy_checks import CopyChecker
from registry.fediverse.copy_reading import CopyRefused, RemoteCopy, on_host
from registry.fediverse.federation import Federation
from registry.fediverse.mirror import apply_copies, apply_delete
from registry.fediverse.partners import Partner
from registry.fediverse.rekeying import moved_target, rekey_copies, verified_moves


@dataclass
class CheckedPage:
    """A page of the changes feed after its documents were checked, ready to store."""

    copies: list[RemoteCopy]
    deletions: list[tuple[str, datetime | None]]
    moves: list[tuple[str, str]]
    last_seq: int
    refusals: list[str]


@dataclass
class PendingPage:
    """A page whose documents are being checked."""

    last_seq: int
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
    checker: CopyChecker, partner: Partner, items: list[Any], context: Any, last_seq: int
) -> PendingPage:
    """Read a page's items and submit its documents for checking; the page can be stored
    once `checked` is done, and the next page read meanwhile."""
    documents, deletions, moves, refusals = [], [], [], []
    for item in items:
        if not isinstance(item, dict):
            refusals.append(f"an item of the changes feed of {partner.host} is not an object")
            continue
        seq = item.get("commons:seq")
        if isinstance(seq, int):
            last_seq = max(last_seq, seq)
        obj = item.get("object")
        if item.get("type") == "Delete":
            iri = obj.get("id") if isinstance(obj, dict) else obj
            if isinstance(iri, str):
                deleted = _when((obj or {}).get("deleted")) if isinstance(obj, dict) else None
                deletions.append((iri, deleted))
                moved = moved_target(obj)
                if moved is not None and on_host(iri, partner.host):
                    moves.append((iri, moved))
            continue
        if isinstance(obj, dict) and "@context" not in obj and context is not None:
            obj = {"@context": context, **obj}  # the page carried the context once
        documents.append(obj)
    checking = await checker.submit(documents)

    async def checked() -> CheckedPage:
        copies, refused = await checking
        return CheckedPage(copies, deletions, moves, last_seq, refusals + refused)

    return PendingPage(last_seq, asyncio.ensure_future(checked()))


async def store_pages(
    federation: Federation, partner: Partner, pages: list[CheckedPage]
) -> Counter[str]:
    """Apply checked pages, in order, and move the checkpoint past the last, in one
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
            update(partners)
            .where(partners.c.id == partner.id)
            .values(checkpoint_seq=pages[-1].last_seq)
        )
    return counts


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
