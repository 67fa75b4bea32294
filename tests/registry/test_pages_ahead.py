"""A sync stores the pages checked by the time its store is free together, in order, and
never one whose check failed or is still running (registry.fediverse.feed_pages.PagesAhead)."""

from __future__ import annotations

import asyncio

import pytest

from registry.fediverse.feed_pages import STORE_TOGETHER, CheckedPage, PagesAhead, PendingPage


def page(seq: int, *, done: bool = True, error: Exception | None = None) -> PendingPage:
    checked: asyncio.Future[CheckedPage] = asyncio.get_running_loop().create_future()
    if error is not None:
        checked.set_exception(error)
    elif done:
        checked.set_result(CheckedPage([], [], [], seq, []))
    return PendingPage(checked)


def seqs(pages: list[CheckedPage] | None) -> list[int] | None:
    return None if pages is None else [p.last_seq for p in pages]


async def test_pages_checked_by_then_are_taken_together_in_order() -> None:
    ahead = PagesAhead(10)
    for seq in range(1, STORE_TOGETHER + 3):
        await ahead.put(page(seq))
    await ahead.put(None)
    assert seqs(await ahead.take()) == list(range(1, STORE_TOGETHER + 1))
    assert seqs(await ahead.take()) == [STORE_TOGETHER + 1, STORE_TOGETHER + 2]
    assert await ahead.take() is None


async def test_a_page_still_being_checked_waits_for_the_next_take() -> None:
    ahead = PagesAhead(10)
    slow = page(2, done=False)
    for item in (page(1), slow, page(3), None):
        await ahead.put(item)
    assert seqs(await ahead.take()) == [1]
    taking = asyncio.ensure_future(ahead.take())
    await asyncio.sleep(0.01)
    assert not taking.done()  # the store waits for the page in order, not past it
    slow.checked.set_result(CheckedPage([], [], [], 2, []))
    assert seqs(await taking) == [2, 3]
    assert await ahead.take() is None


async def test_a_failed_check_or_read_comes_after_the_pages_before_it() -> None:
    ahead = PagesAhead(10)
    for item in (page(1), page(2, error=RuntimeError("worker")), page(3)):
        await ahead.put(item)
    assert seqs(await ahead.take()) == [1]  # stored before the failure is raised
    with pytest.raises(RuntimeError, match="worker"):
        await ahead.take()

    ahead = PagesAhead(10)
    for item in (page(1), ValueError("the feed leaves its host")):
        await ahead.put(item)
    assert seqs(await ahead.take()) == [1]
    with pytest.raises(ValueError, match="leaves its host"):
        await ahead.take()


async def test_pages_left_when_a_sync_stops_are_no_longer_checked() -> None:
    ahead = PagesAhead(10)
    held, queued = page(2, done=False), page(3, done=False)
    for item in (page(1), held, queued):
        await ahead.put(item)
    await ahead.take()
    ahead.cancel()
    assert held.checked.cancelled() and queued.checked.cancelled()
