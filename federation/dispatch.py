"""The inbox's back half: apply stored activities through the handlers the application registers.

One handler per activity type (and optionally object type), registered in one table, so that
supporting a new activity is adding one function. A handler has up to two parts: `prepare`
does network work (fetching an object from its origin) outside any transaction; `apply` makes
the database changes inside the transaction that also marks the activity done, so an activity
is applied exactly once even if the worker dies half-way.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation.inbox import first_type
from federation.leases import claim, still_mine
from federation.tables import inbox_items
from federation.transactions import write

log = logging.getLogger("federation.dispatch")


class Retry(Exception):
    """A handler could not finish now (a fetch failed); the activity is tried again later."""


class Ignore(Exception):
    """A handler decided not to apply the activity; the reason is recorded."""


@dataclass(frozen=True)
class Activity:
    """A stored activity as handlers see it."""

    item_id: int
    body: dict[str, Any]
    actor: str
    host: str
    signer: str

    @property
    def type(self) -> str:
        return first_type(self.body.get("type")) or ""

    @property
    def object(self) -> Any:
        return self.body.get("object")

    def standalone_object(self) -> Any:
        """The embedded object as a document of its own: an object without `@context` is
        read under the activity's context (JSON-LD scoping), so it gets that context."""
        obj = self.object
        if isinstance(obj, dict) and "@context" not in obj and "@context" in self.body:
            return {"@context": self.body["@context"], **obj}
        return obj


Prepare = Callable[[Activity], Awaitable[Any]]
Apply = Callable[[AsyncConnection, Activity, Any], Awaitable[str | None]]
ObjectMatch = Callable[[Any], bool]


@dataclass(frozen=True)
class Handler:
    activity_type: str
    apply: Apply
    object_match: ObjectMatch | None = None
    prepare: Prepare | None = None


@dataclass
class Handlers:
    """The application's handlers, looked up by activity type and object."""

    table: dict[str, list[Handler]] = field(default_factory=dict)

    def on(
        self,
        activity_type: str,
        *,
        object_match: ObjectMatch | None = None,
        prepare: Prepare | None = None,
    ) -> Callable[[Apply], Apply]:
        def register(apply: Apply) -> Apply:
            handler = Handler(activity_type, apply, object_match, prepare)
            # Handlers that look at the object go before the catch-all for the same type.
            entries = self.table.setdefault(activity_type, [])
            entries.insert(0 if object_match else len(entries), handler)
            return apply

        return register

    def find(self, activity: Activity) -> Handler | None:
        for handler in self.table.get(activity.type, []):
            if handler.object_match is None or handler.object_match(activity.object):
                return handler
        return None


@dataclass
class DispatchSettings:
    batch: int = 50
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 6
    retry_base: timedelta = timedelta(seconds=30)
    retry_cap: timedelta = timedelta(hours=1)
    poll_interval: float = 1.0
    concurrency: int = 8


class InboxProcessor:
    def __init__(
        self, engine: AsyncEngine, handlers: Handlers, settings: DispatchSettings, worker_id: str
    ) -> None:
        self.engine = engine
        self.handlers = handlers
        self.settings = settings
        self.worker_id = worker_id
        self.wakeup = asyncio.Event()

    def wake(self) -> None:
        self.wakeup.set()

    async def run_once(self) -> int:
        now = datetime.now(UTC)
        async with write(self.engine) as conn:
            rows = await claim(
                conn,
                inbox_items,
                due_column="available_at",
                worker_id=self.worker_id,
                limit=self.settings.batch,
                lease=self.settings.lease,
                now=now,
            )
        if not rows:
            return 0
        limit = asyncio.Semaphore(self.settings.concurrency)
        # Activities from one actor are applied in the order they arrived (an Update after
        # its Create); different actors go in parallel.
        by_actor: dict[str, list[Any]] = {}
        for row in sorted(rows, key=lambda r: r.id):
            by_actor.setdefault(row.actor, []).append(row)

        async def one_actor(items: list[Any]) -> None:
            for row in items:
                async with limit:
                    await self._process(row)

        await asyncio.gather(*(one_actor(items) for items in by_actor.values()))
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                handled = await self.run_once()
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

    async def _process(self, row: Any) -> None:
        activity = Activity(row.id, orjson.loads(row.body), row.actor, row.host, row.signer)
        handler = self.handlers.find(activity)
        if handler is None:
            await self._finish(row, "ignored", f"no handler for {activity.type}")
            return
        try:
            prepared = await handler.prepare(activity) if handler.prepare else None
            async with write(self.engine) as conn:
                mine = await conn.execute(
                    update(inbox_items)
                    .where(still_mine(inbox_items, row.id, self.worker_id))
                    .values(
                        state="done",
                        processed_at=datetime.now(UTC),
                        attempts=row.attempts + 1,
                        locked_by=None,
                        locked_until=None,
                    )
                )
                if not mine.rowcount:
                    return  # our lease ran out and another worker has it
                result = await handler.apply(conn, activity, prepared)
                if result:
                    await conn.execute(
                        update(inbox_items)
                        .where(inbox_items.c.id == row.id)
                        .values(result=result[:2000])
                    )
        except Ignore as reason:
            await self._finish(row, "ignored", str(reason))
        except Retry as reason:
            await self._retry(row, str(reason))
        except Exception as exc:  # a handler bug must not stop the queue
            log.exception("handler for %s failed on %s", activity.type, row.activity_id)
            await self._retry(row, f"{type(exc).__name__}: {exc}")

    async def _finish(self, row: Any, state: str, result: str) -> None:
        async with write(self.engine) as conn:
            await conn.execute(
                update(inbox_items)
                .where(still_mine(inbox_items, row.id, self.worker_id))
                .values(
                    state=state,
                    result=result[:2000],
                    processed_at=datetime.now(UTC),
                    attempts=row.attempts + 1,
                    locked_by=None,
                    locked_until=None,
                )
            )

    async def _retry(self, row: Any, reason: str) -> None:
        attempts = row.attempts + 1
        if attempts >= self.settings.max_attempts:
            await self._finish(row, "failed", f"gave up after {attempts} attempts: {reason}")
            return
        delay = min(self.settings.retry_cap, self.settings.retry_base * 2 ** (attempts - 1))
        delay *= random.uniform(0.8, 1.2)
        async with write(self.engine) as conn:
            await conn.execute(
                update(inbox_items)
                .where(still_mine(inbox_items, row.id, self.worker_id))
                .values(
                    attempts=attempts,
                    result=reason[:2000],
                    available_at=datetime.now(UTC) + delay,
                    locked_by=None,
                    locked_until=None,
                )
            )
