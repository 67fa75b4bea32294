"""The inbox's back half: apply stored activities through the handlers the application registers.

One handler per activity type (and optionally object type), registered in one table, so that
supporting a new activity is adding one function. A handler has up to two parts: `prepare`
does network work (fetching an object from its origin) outside any transaction; `apply` makes
the database changes inside the transaction that also marks the activity done, so an activity
is applied exactly once even if the worker dies half-way.

A claimed batch is prepared first (one actor's activities in order, different actors at once),
then applied in one write transaction, in arrival order, each activity inside its own
savepoint: a handler that fails rolls back its own activity only, and its failure is recorded
in the same transaction. One commit for the batch instead of one per activity is what lets the
inbox keep up with its receivers (issue 8, B1). Runs of activities whose handlers can apply
many at once (`Handler.apply_many`, cut by `federation.runs`) share one savepoint and one
call, so a run of 50 Creates costs a few statements, not 50 times a few (issue 20).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import orjson
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# The handler table lives in federation.handlers; these names are imported from here too.
from federation.handlers import (
    Activity,
    ApplyMany,
    Handler,
    Handlers,
    Ignore,
    Retry,
)
from federation.inbox import ref
from federation.inbox_marks import MARK_DONE, RETRY, done_mark, purge_finished, record_outcome
from federation.leases import claim
from federation.runs import runs
from federation.tables import inbox_items
from federation.transactions import batch_memo, write

log = logging.getLogger("federation.dispatch")


@dataclass
class DispatchSettings:
    batch: int = 50
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 6
    retry_base: timedelta = timedelta(seconds=30)
    retry_cap: timedelta = timedelta(hours=1)
    poll_interval: float = 1.0
    concurrency: int = 8
    # How long a round waits for its slowest `prepare` (a fetch from a slow host) before it
    # applies what is ready; the rest finish in the background, in order per actor, so one
    # actor's silent host never holds up another actor's Follow.
    prepare_wait: float = 0.5
    max_background: int = 64
    keep: timedelta = timedelta(days=7)  # how long finished rows (ids only) are kept


@dataclass
class _Work:
    """One claimed activity on its way through a round: its handler, what `prepare` gave,
    or why it will not be applied (`failure`: a state and a reason, set before applying)."""

    row: Any
    activity: Activity | None = None
    handler: Handler | None = None
    prepared: Any = None
    failure: tuple[str, str] | None = None


PURGE_EVERY = 600.0  # seconds between deletions of rows older than `keep`

# What a claim returns: the columns the worker reads, not the four timestamps it would parse
# for nothing on every row.
CLAIMED = [
    inbox_items.c[name]
    for name in ("id", "activity_id", "actor", "host", "body", "signer", "attempts")
]

# Which claimed rows are still this worker's when it applies them, built once (it runs for
# every batch). On PostgreSQL the UPDATE also locks them until the transaction ends, so that
# a worker that took an expired lease cannot apply them alongside. On SQLite the write lock
# does that already, and an UPDATE would rewrite each row whole, stored activity included
# (~20 us a row), so a SELECT asks.
_HELD_BY = (
    inbox_items.c.id.in_(bindparam("ids", expanding=True)),
    inbox_items.c.locked_by == bindparam("worker"),
    inbox_items.c.state == "pending",
)
STILL_HELD = (
    update(inbox_items)
    .where(*_HELD_BY)
    .values(locked_by=bindparam("worker"))
    .returning(inbox_items.c.id)
)
STILL_HELD_SQLITE = select(inbox_items.c.id).where(*_HELD_BY)


def _object_of(work: _Work) -> Any:
    return ref(work.activity.object) if work.activity is not None else None


class InboxProcessor:
    def __init__(
        self, engine: AsyncEngine, handlers: Handlers, settings: DispatchSettings, worker_id: str
    ) -> None:
        self.engine = engine
        self.handlers = handlers
        self.settings = settings
        self.worker_id = worker_id
        self.wakeup = asyncio.Event()
        self._limit = asyncio.Semaphore(settings.concurrency)
        self._background: dict[str, asyncio.Task[None]] = {}
        self._last_purge = time.monotonic()

    def wake(self) -> None:
        self.wakeup.set()

    async def purge(self, now: datetime | None = None) -> int:
        return await purge_finished(self.engine, self.settings.keep, now or datetime.now(UTC))

    async def run_once(self, *, wait: bool = True) -> int:
        """Claim and apply one batch. With `wait` (tests, `drain`), also wait for the slow
        part of the batch and for earlier rounds' background work; the worker loop does not."""
        now = datetime.now(UTC)
        if time.monotonic() - self._last_purge > PURGE_EVERY:
            self._last_purge = time.monotonic()
            purged = await self.purge(now)
            if purged:
                log.info("forgot %d finished activities older than %s", purged, self.settings.keep)
        if len(self._background) >= self.settings.max_background:
            await asyncio.wait(self._background.values(), return_when=asyncio.FIRST_COMPLETED)
        async with write(self.engine) as conn:
            rows = await claim(
                conn,
                inbox_items,
                due_column="available_at",
                worker_id=self.worker_id,
                limit=self.settings.batch,
                lease=self.settings.lease,
                now=now,
                returning=CLAIMED,
            )
        if rows:
            # Arrival order: one actor's activities are applied in the order they came (an
            # Update after its Create).
            works = [self._open(row) for row in sorted(rows, key=lambda r: r.id)]
            ready = await self._prepare_all(works)
            await self._apply_all(ready)
        if wait:
            while self._background:
                await asyncio.gather(*self._background.values(), return_exceptions=True)
        return len(rows)

    async def close(self) -> None:
        """Stop background work; its rows stay leased and are taken again after the lease."""
        tasks = list(self._background.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self._run(stop)
        finally:
            await self.close()

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                handled = await self.run_once(wait=False)
            except Exception:
                log.exception("inbox processing round failed")
                handled = 0
            if handled:
                continue
            self.wakeup.clear()
            waiters = [
                asyncio.ensure_future(stop.wait()),
                asyncio.ensure_future(self.wakeup.wait()),
            ]
            await asyncio.wait(
                waiters, timeout=self.settings.poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in waiters:
                waiter.cancel()

    def _open(self, row: Any) -> _Work:
        work = _Work(row)
        try:
            work.activity = Activity(
                row.id, orjson.loads(row.body), row.actor, row.host, row.signer
            )
        except orjson.JSONDecodeError as exc:
            work.failure = ("failed", f"stored body is not JSON: {exc}")
            return work
        work.handler = self.handlers.find(work.activity)
        if work.handler is None:
            work.failure = ("ignored", f"no handler for {work.activity.type}")
        elif refused := self.handlers.refused(work.activity):
            work.failure = ("ignored", refused)  # before any fetch its prepare would make
        return work

    async def _prepare_all(self, works: list[_Work]) -> list[_Work]:
        """Network work, outside any transaction: one actor's activities one after another,
        different actors at once (at most `concurrency` fetches). Returns the works ready to
        apply after at most `prepare_wait`; an actor still fetching then, or still busy with
        an earlier round, finishes in the background (its activities in order)."""
        by_actor: dict[str, list[_Work]] = {}
        for work in works:
            by_actor.setdefault(work.row.actor, []).append(work)
        ready: list[_Work] = []
        running: dict[str, tuple[asyncio.Task[None], list[_Work]]] = {}
        for actor, items in by_actor.items():
            earlier = self._background.get(actor)
            if earlier is not None:
                self._in_background(actor, items, after=earlier)
            elif any(self._needs_prepare(work) for work in items):
                running[actor] = (asyncio.ensure_future(self._prepare_group(items)), items)
            else:
                ready.extend(items)
        if running:
            await asyncio.wait(
                [task for task, _ in running.values()], timeout=self.settings.prepare_wait
            )
        for actor, (task, items) in running.items():
            if task.done():
                ready.extend(items)
            else:
                self._in_background(actor, items, prepared=task)
        return sorted(ready, key=lambda work: work.row.id)

    def _needs_prepare(self, work: _Work) -> bool:
        return work.failure is None and work.handler is not None and bool(work.handler.prepare)

    async def _prepare_group(self, items: list[_Work]) -> None:
        for work in items:
            if self._needs_prepare(work):
                # A prepare that needs no fetch never gives the loop back by itself: let the
                # requests and the inbox writer waiting on it go between two activities.
                await asyncio.sleep(0)
                async with self._limit:
                    await self._prepare(work)

    def _in_background(
        self,
        actor: str,
        items: list[_Work],
        *,
        prepared: asyncio.Task[None] | None = None,
        after: asyncio.Task[None] | None = None,
    ) -> None:
        async def finish() -> None:
            if after is not None:
                await asyncio.gather(after, return_exceptions=True)
            if prepared is not None:
                await prepared
            else:
                await self._prepare_group(items)
            await self._apply_all(items)

        task = asyncio.ensure_future(finish())
        self._background[actor] = task

        def done(finished: asyncio.Task[None]) -> None:
            if self._background.get(actor) is finished:
                del self._background[actor]
            if not finished.cancelled() and finished.exception() is not None:
                log.error("background work for %s failed", actor, exc_info=finished.exception())

        task.add_done_callback(done)

    async def _prepare(self, work: _Work) -> None:
        assert work.handler is not None and work.handler.prepare is not None
        assert work.activity is not None
        try:
            work.prepared = await work.handler.prepare(work.activity)
        except Ignore as reason:
            work.failure = ("ignored", str(reason))
        except Retry as reason:
            work.failure = (RETRY, str(reason))
        except Exception as exc:  # a handler bug must not stop the queue
            log.exception("preparing %s failed on %s", work.activity.type, work.row.activity_id)
            work.failure = (RETRY, f"{type(exc).__name__}: {exc}")

    async def _apply_all(self, works: list[_Work]) -> None:
        try:
            async with write(self.engine) as conn:
                await self._apply_in(conn, works)
            return
        except Exception:
            # The batch as a whole failed (its commit, or a savepoint that could not be rolled
            # back): nothing of it was kept, so each activity goes again in its own transaction.
            log.exception("applying a batch of %d activities failed; one at a time", len(works))
        for work in works:
            try:
                async with write(self.engine) as conn:
                    await self._apply_in(conn, [work])
            except Exception as exc:
                log.exception("applying %s failed", work.row.activity_id)
                async with write(self.engine) as conn:
                    await self._record(conn, work.row, RETRY, f"{type(exc).__name__}: {exc}")

    async def _apply_in(self, conn: AsyncConnection, works: list[_Work]) -> None:
        # Which rows are still ours, asked once for the batch (STILL_HELD).
        ids = [work.row.id for work in works if work.failure is None]
        held: set[int] = set()
        if ids:
            ask = STILL_HELD_SQLITE if conn.dialect.name == "sqlite" else STILL_HELD
            rows = await conn.execute(ask, {"ids": ids, "worker": self.worker_id})
            held = {row.id for row in rows}
        async with batch_memo(conn):
            for bulk, run in runs(works, partial(self._bulk_of, held), _object_of):
                if bulk is None or len(run) == 1:
                    await self._apply(conn, run[0], held)
                else:
                    await self._apply_run(conn, bulk, run, held)

    @staticmethod
    def _bulk_of(held: set[int], work: _Work) -> ApplyMany | None:
        ready = work.failure is None and work.row.id in held and work.handler is not None
        return work.handler.apply_many if ready else None  # type: ignore[union-attr]

    async def _apply_run(
        self, conn: AsyncConnection, bulk: ApplyMany, run: list[_Work], held: set[int]
    ) -> None:
        """A run through one `apply_many` in one savepoint, marked done in one statement; if
        the call fails, the run is applied again one activity at a time."""
        ready: list[_Work] = []
        for work in run:
            assert work.activity is not None
            if refused := await self.handlers.refused_in(conn, work.activity):
                await self._record(conn, work.row, "ignored", refused)
            else:
                ready.append(work)
        try:
            async with conn.begin_nested():
                outcomes = await bulk(conn, [(work.activity, work.prepared) for work in ready])
                done_at = datetime.now(UTC)
                marks = [
                    done_mark(work.row, outcome, done_at)
                    for work, outcome in zip(ready, outcomes, strict=True)
                    if not isinstance(outcome, Ignore)
                ]
                if marks:
                    await conn.execute(MARK_DONE, marks)
        except Exception:
            log.exception("applying a run of %d activities failed; one at a time", len(ready))
            for work in ready:
                await self._apply(conn, work, held)
            return
        for work, outcome in zip(ready, outcomes, strict=True):
            if isinstance(outcome, Ignore):
                await self._record(conn, work.row, "ignored", str(outcome))

    async def _apply(self, conn: AsyncConnection, work: _Work, held: set[int]) -> None:
        """Apply one activity inside its own savepoint of the batch's transaction, or record
        why not; the done-mark commits with the activity's effects, or not at all."""
        row = work.row
        if work.failure is not None:
            await self._record(conn, row, *work.failure)
            return
        if row.id not in held:
            return  # our lease ran out and another worker has it
        assert work.handler is not None and work.activity is not None
        try:
            async with conn.begin_nested():
                # A guard's rule committed by another process since `_open` still wins.
                if refused := await self.handlers.refused_in(conn, work.activity):
                    raise Ignore(refused)
                result = await work.handler.apply(conn, work.activity, work.prepared)
                await conn.execute(MARK_DONE, done_mark(row, result, datetime.now(UTC)))
        except Ignore as reason:
            await self._record(conn, row, "ignored", str(reason))
        except Retry as reason:
            await self._record(conn, row, RETRY, str(reason))
        except Exception as exc:  # a handler bug must not stop the queue
            log.exception("handler for %s failed on %s", work.activity.type, row.activity_id)
            await self._record(conn, row, RETRY, f"{type(exc).__name__}: {exc}")

    async def _record(self, conn: AsyncConnection, row: Any, state: str, reason: str) -> None:
        await record_outcome(conn, row, state, reason, self.worker_id, self.settings)
