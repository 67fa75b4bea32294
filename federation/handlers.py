"""The handler table: what the application does with each activity and object type.

One handler per activity type (and optionally object type), registered in one table, so that
supporting a new activity is adding one function. A handler has up to two parts: `prepare`
does network work (fetching an object from its origin) outside any transaction; `apply` makes
the database changes inside the transaction that also marks the activity done
(`federation.dispatch` runs them). A handler may also have `apply_many`, which applies a run
of activities at once (one statement per table for the run, not per activity); handlers that
share one `apply_many` share their runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from federation.inbox import first_type


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
# For each (activity, prepared) of the run, in order: its result, or the `Ignore` that says
# why it was not applied. Raising fails the run, which is then applied one activity at a time.
ApplyMany = Callable[[AsyncConnection, list[tuple[Activity, Any]]], Awaitable[list[Any]]]


@dataclass(frozen=True)
class Handler:
    activity_type: str
    apply: Apply
    object_match: ObjectMatch | None = None
    prepare: Prepare | None = None
    apply_many: ApplyMany | None = None


class Guard(Protocol):
    """A rule every activity passes before any handler sees it (a domain block): checked once
    per activity, whatever its type, instead of inside each handler."""

    def refuse(self, activity: Activity) -> str | None:
        """Why the activity is not handled, from what this process knows (before any fetch)."""

    async def refuse_in(self, conn: AsyncConnection, activity: Activity) -> str | None:
        """The same, checked again inside the transaction that would apply it."""


@dataclass
class Handlers:
    """The application's handlers, looked up by activity type and object, and the guards
    every activity passes first."""

    table: dict[str, list[Handler]] = field(default_factory=dict)
    guards: list[Guard] = field(default_factory=list)

    def add(self, handler: Handler) -> None:
        # Handlers that look at the object go before the catch-all for the same type.
        entries = self.table.setdefault(handler.activity_type, [])
        entries.insert(0 if handler.object_match else len(entries), handler)

    def on(
        self,
        activity_type: str,
        *,
        object_match: ObjectMatch | None = None,
        prepare: Prepare | None = None,
    ) -> Callable[[Apply], Apply]:
        def register(apply: Apply) -> Apply:
            self.add(Handler(activity_type, apply, object_match, prepare))
            return apply

        return register

    def find(self, activity: Activity) -> Handler | None:
        for handler in self.table.get(activity.type, []):
            if handler.object_match is None or handler.object_match(activity.object):
                return handler
        return None

    def refused(self, activity: Activity) -> str | None:
        for guard in self.guards:
            reason = guard.refuse(activity)
            if reason:
                return reason
        return None

    async def refused_in(self, conn: AsyncConnection, activity: Activity) -> str | None:
        for guard in self.guards:
            reason = await guard.refuse_in(conn, activity)
            if reason:
                return reason
        return None
