"""Storing received activities with group commit: one transaction for every request waiting.

Each POST to the inbox used to take the writer for its own transaction (a replay look, an
insert, a record of the signature): on SQLite the requests queued on the one writer and on
PostgreSQL each paid three round trips and a commit. Here a request hands its row to the
writer and waits; the writer takes every row that arrived while the previous transaction ran
and stores them together: one upsert of the signatures that also tells which were replays,
one multi-row insert that skips ids already held. Nothing waits on a timer: under light load
a batch is one row, under heavy load it is every request in flight, counted once the
transaction holds the write lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from federation.replay import SharedReplayGuard
from federation.tables import inbox_items
from federation.transactions import write
from federation.upserts import insert_new_rows

log = logging.getLogger("federation.inbox")

MAX_ROWS = 400  # per transaction: under both databases' limits on bound parameters


class Replayed(Exception):
    """The request's signature was already used by a request that was taken."""


@dataclass(eq=False)  # compared by identity: two requests may carry the same row
class _Waiting:
    row: dict[str, Any]
    signature: str
    outcome: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class InboxWriter:
    def __init__(self, engine: AsyncEngine, replays: SharedReplayGuard) -> None:
        self.engine = engine
        self.replays = replays
        self._waiting: list[_Waiting] = []
        self._writing: asyncio.Task[None] | None = None

    async def store(self, row: dict[str, Any], signature: str) -> bool:
        """Store one activity row taken under `signature`: True when stored, False when an
        activity with its id is already held. Raises `Replayed` for a used signature."""
        waiting = _Waiting(row, signature)
        self._waiting.append(waiting)
        if self._writing is None or self._writing.done():
            self._writing = asyncio.ensure_future(self._write_all())
        # Shielded: a sender that hangs up does not cancel the batch its row is in.
        return await asyncio.shield(waiting.outcome)

    async def close(self) -> None:
        if self._writing is not None:
            await asyncio.gather(self._writing, return_exceptions=True)

    async def _write_all(self) -> None:
        while self._waiting:
            taken: list[_Waiting] = []
            take = partial(self._take, taken)
            try:
                outcomes = await self._write(take)
            except Exception as exc:  # the transaction failed: nothing of it was kept
                outcomes = await self._one_at_a_time(taken or take(), exc)
            for waiting, outcome in zip(taken, outcomes, strict=True):
                if waiting.outcome.done():
                    continue
                if isinstance(outcome, BaseException):
                    waiting.outcome.set_exception(outcome)
                else:
                    waiting.outcome.set_result(outcome)

    def _take(self, into: list[_Waiting]) -> list[_Waiting]:
        """The next batch of waiting requests, moved into `into`."""
        into.extend(self._waiting[:MAX_ROWS])
        del self._waiting[: len(into)]
        return into

    async def _one_at_a_time(
        self, batch: list[_Waiting], failure: Exception
    ) -> list[bool | BaseException]:
        if len(batch) == 1:
            log.warning("storing a received activity failed: %s", failure)
            return [failure]
        # One bad row must not fail the requests it happened to share a transaction with.
        log.warning("storing %d received activities together failed; one at a time", len(batch))
        outcomes: list[bool | BaseException] = []
        for waiting in batch:
            try:
                outcomes.extend(await self._write(lambda waiting=waiting: [waiting]))
            except Exception as exc:
                log.warning("storing a received activity failed: %s", exc)
                outcomes.append(exc)
        return outcomes

    async def _write(self, take: Callable[[], list[_Waiting]]) -> list[bool | BaseException]:
        """One transaction for the rows `take` hands over, asked once the transaction holds
        the write lock: on SQLite the web process waits for it behind the worker's apply,
        and every request that arrived meanwhile joins this transaction instead of queuing
        for the next one (fewer, larger commits under load)."""
        async with write(self.engine) as conn:
            batch = take()
            free = await self.replays.take(conn, [w.signature for w in batch])
            fresh: list[_Waiting] = []
            for waiting in batch:
                if waiting.signature in free:  # the first request with it; the rest: replays
                    free.discard(waiting.signature)
                    fresh.append(waiting)
            inserted = await insert_new_rows(
                conn, inbox_items, [w.row for w in fresh], unique="activity_id"
            )
        self.replays.remember_here([w.signature for w in fresh])
        taken = set(fresh)  # by identity (eq=False)
        outcomes: list[bool | BaseException] = []
        claimed: set[str] = set()
        for waiting in batch:
            if waiting not in taken:
                outcomes.append(Replayed())
                continue
            activity_id = waiting.row["activity_id"]
            # The same id twice in one batch: the first is stored, the second is a duplicate.
            outcomes.append(activity_id in inserted and activity_id not in claimed)
            claimed.add(activity_id)
        return outcomes
