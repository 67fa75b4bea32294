"""Runs of activities through one `apply_many`: how a batch is cut, and that a run applies in
one call, records its ignored activities, and falls back to one at a time when it fails."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation.dispatch import (
    Activity,
    DispatchSettings,
    Handler,
    Handlers,
    Ignore,
    InboxProcessor,
)
from federation.runs import runs
from federation.tables import inbox_items
from tests.federation.test_dispatch_batch import ACTORS, SENTINEL, items, store


def test_a_batch_is_cut_where_the_bulk_changes_or_an_object_repeats() -> None:
    def a() -> None: ...

    def b() -> None: ...

    works = [("a", 1), ("a", 2), (None, 3), ("a", 4), ("b", 5), ("a", 6), ("a", 4), ("a", 7)]
    bulks = {"a": a, "b": b, None: None}
    cut = [
        (bulk, [obj for _, obj in run])
        for bulk, run in runs(works, lambda w: bulks[w[0]], lambda w: w[1])
    ]
    assert cut == [(a, [1, 2]), (None, [3]), (a, [4]), (b, [5]), (a, [6, 4, 7])]
    # The same object right after itself (an Update after its Create): two runs.
    assert len(list(runs([("a", 4), ("a", 4)], lambda w: a, lambda w: w[1]))) == 2


def bulk_handlers(calls: list[list[str]], fail_when: str | None = None) -> Handlers:
    async def apply(conn: AsyncConnection, activity: Activity, note: Any) -> str:
        calls.append([activity.object])
        if activity.object == "ignore":
            raise Ignore("not for us")
        return f"one {activity.object}"

    async def apply_many(conn: AsyncConnection, pairs: list[tuple[Activity, Any]]) -> list[Any]:
        calls.append([activity.object for activity, _ in pairs])
        await conn.execute(  # undone with the run's savepoint when the run fails
            update(inbox_items)
            .where(inbox_items.c.activity_id == SENTINEL)
            .values(result="written by a failed run")
        )
        if fail_when is not None and any(a.object == fail_when for a, _ in pairs):
            raise RuntimeError("bulk bug")
        return [
            Ignore("not for us") if a.object == "ignore" else f"many {a.object}" for a, _ in pairs
        ]

    handlers = Handlers()
    handlers.add(Handler("Create", apply, apply_many=apply_many))
    return handlers


async def test_a_run_is_applied_in_one_call(engine: AsyncEngine) -> None:
    notes = ["n0", "n1", "ignore", "n3", "n1", "n5"]
    await store(engine, [(ACTORS[0], note) for note in notes])
    calls: list[list[str]] = []
    processor = InboxProcessor(engine, bulk_handlers(calls), DispatchSettings(), "w1")
    assert await processor.run_once() == len(notes)
    # The second n1 starts a new run (it may be an Update of what the first created).
    assert calls == [["n0", "n1", "ignore", "n3"], ["n1", "n5"]]
    stored = await items(engine)
    for n, note in enumerate(notes):
        item = stored[f"{ACTORS[0]}/act/{n}"]
        assert item.attempts == 1 and item.locked_by is None
        if note == "ignore":
            assert (item.state, item.result) == ("ignored", "not for us")
        else:
            assert (item.state, item.result, item.body) == ("done", f"many {note}", "{}")


async def test_a_failing_run_is_applied_one_at_a_time(engine: AsyncEngine) -> None:
    notes = ["n0", "boom", "ignore", "n3"]
    await store(engine, [(ACTORS[1], note) for note in notes])
    calls: list[list[str]] = []
    processor = InboxProcessor(engine, bulk_handlers(calls, "boom"), DispatchSettings(), "w1")
    assert await processor.run_once() == len(notes)
    assert calls == [["n0", "boom", "ignore", "n3"], ["n0"], ["boom"], ["ignore"], ["n3"]]
    stored = await items(engine)
    assert stored[SENTINEL].result == "untouched"
    results = [stored[f"{ACTORS[1]}/act/{n}"] for n in range(len(notes))]
    assert [(r.state, r.result) for r in results] == [
        ("done", "one n0"),
        ("done", "one boom"),
        ("ignored", "not for us"),
        ("done", "one n3"),
    ]
