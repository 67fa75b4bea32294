"""The inbox processor applies a claimed batch in one write transaction, one savepoint per
activity: a failing activity is rolled back and recorded alone, the others commit together,
and one actor's activities are prepared and applied in the order they arrived."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation.dispatch import (
    Activity,
    DispatchSettings,
    Handler,
    Handlers,
    Ignore,
    InboxProcessor,
    Retry,
)
from federation.tables import inbox_items
from federation.transactions import write

ACTORS = ("https://a.example/actor", "https://b.example/actor")
SENTINEL = "https://sentinel.example/activity"


async def store(engine: AsyncEngine, specs: list[tuple[str, str]]) -> None:
    """Store pending activities, (actor, note) each, in this order, plus a finished sentinel
    row that only a rolled-back handler writes to."""
    now = datetime.now(UTC)
    rows = []
    for n, (actor, note) in enumerate(specs):
        body = {"id": f"{actor}/act/{n}", "type": "Create", "actor": actor, "object": note}
        rows.append(row(body["id"], actor, body, "pending", now))
    rows.append(row(SENTINEL, ACTORS[0], {"type": "Create"}, "done", now))
    async with write(engine) as conn:
        await conn.execute(insert(inbox_items), rows)


def row(activity_id: str, actor: str, body: dict[str, Any], state: str, now: datetime) -> dict:
    return {
        "activity_id": activity_id,
        "actor": actor,
        "host": actor.split("/")[2],
        "type": "Create",
        "body": orjson.dumps(body).decode(),
        "signer": actor + "#main-key",
        "received_at": now,
        "state": state,
        "available_at": now,
        "result": "untouched" if state == "done" else None,
    }


async def items(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        return {r.activity_id: r for r in await conn.execute(select(inbox_items))}


def counting_commits(engine: AsyncEngine) -> list[int]:
    commits: list[int] = []
    event.listen(engine.sync_engine, "commit", lambda _conn: commits.append(1))
    return commits


def handlers_with_poison(applied: list[str], prepared: list[tuple[str, str]]) -> Handlers:
    handlers = Handlers()

    async def prepare(activity: Activity) -> str:
        prepared.append((activity.actor, f"start {activity.body['id']}"))
        await asyncio.sleep(0.01 if activity.object == "slow" else 0)
        prepared.append((activity.actor, f"end {activity.body['id']}"))
        if activity.object == "retry-in-prepare":
            raise Retry("origin down")
        return activity.object

    @handlers.on("Create", prepare=prepare)
    async def apply(conn: AsyncConnection, activity: Activity, note: str) -> str:
        if note == "poison":
            # A write that must not survive: the savepoint takes it back.
            await conn.execute(
                update(inbox_items)
                .where(inbox_items.c.activity_id == SENTINEL)
                .values(result="written by a failed handler")
            )
            raise RuntimeError("handler bug")
        if note == "ignore":
            raise Ignore("not for us")
        applied.append(activity.body["id"])
        return f"applied {note}"

    return handlers


async def test_one_poisoned_activity_fails_alone_and_the_batch_commits_once(
    engine: AsyncEngine,
) -> None:
    notes = ["ok", "slow", "poison", "ok", "ignore", "ok", "retry-in-prepare", "ok", "slow", "ok"]
    specs = [(ACTORS[n % 2], note) for n, note in enumerate(notes)]
    await store(engine, specs)
    applied: list[str] = []
    prepared: list[tuple[str, str]] = []
    processor = InboxProcessor(
        engine, handlers_with_poison(applied, prepared), DispatchSettings(), "w1"
    )
    commits = counting_commits(engine)

    assert await processor.run_once() == len(specs)

    # One commit for the claim and one for the whole batch, not one per activity.
    assert len(commits) < len(specs)
    assert len(commits) == 2
    stored = await items(engine)
    for n, (actor, note) in enumerate(specs):
        item = stored[f"{actor}/act/{n}"]
        assert item.locked_by is None and item.attempts == 1, note
        if note in ("ok", "slow"):
            assert (item.state, item.result) == ("done", f"applied {note}")
        elif note == "ignore":
            assert (item.state, item.result) == ("ignored", "not for us")
        else:  # due again later, with the reason kept
            assert item.state == "pending", note
            assert item.available_at.replace(tzinfo=UTC) > datetime.now(UTC) + timedelta(seconds=10)
            assert item.result == (
                "RuntimeError: handler bug" if note == "poison" else "origin down"
            )
    assert stored[SENTINEL].result == "untouched"
    assert await processor.run_once() == 0  # nothing left that is due

    # Per actor: applied in arrival order, and each prepare ended before the next began.
    for actor in ACTORS:
        ids = [i for i in applied if i.startswith(actor)]
        assert ids == sorted(ids, key=lambda i: int(i.rsplit("/", 1)[1]))
        steps = [step for who, step in prepared if who == actor]
        assert all(
            a.startswith("start") and b == "end" + a[len("start") :]
            for a, b in zip(steps[::2], steps[1::2], strict=True)
        )
    # Different actors' prepares overlap (the slow ones do not hold up the other actor).
    firsts = [who for who, _ in prepared[:2]]
    assert set(firsts) == set(ACTORS)


async def test_a_poisoned_activity_gives_up_after_its_attempts(engine: AsyncEngine) -> None:
    await store(engine, [(ACTORS[0], "ok"), (ACTORS[0], "poison"), (ACTORS[0], "ok")])
    applied: list[str] = []
    processor = InboxProcessor(
        engine, handlers_with_poison(applied, []), DispatchSettings(max_attempts=1), "w1"
    )

    assert await processor.run_once() == 3

    stored = await items(engine)
    states = [stored[f"{ACTORS[0]}/act/{n}"].state for n in range(3)]
    assert states == ["done", "failed", "done"]
    assert stored[f"{ACTORS[0]}/act/1"].result.startswith("gave up after 1 attempts")
    assert applied == [f"{ACTORS[0]}/act/0", f"{ACTORS[0]}/act/2"]
    assert stored[SENTINEL].result == "untouched"


async def test_an_activity_whose_lease_was_taken_is_not_applied(engine: AsyncEngine) -> None:
    await store(engine, [(ACTORS[0], "ok"), (ACTORS[1], "ok")])
    applied: list[str] = []
    handlers = handlers_with_poison(applied, [])
    processor = InboxProcessor(engine, handlers, DispatchSettings(), "w1")
    original = handlers.table["Create"][0].prepare
    assert original is not None

    async def prepare_then_lose_lease(activity: Activity) -> Any:
        # Another worker takes the second activity while this one prepares.
        if activity.actor == ACTORS[1]:
            async with write(engine) as conn:
                await conn.execute(
                    update(inbox_items)
                    .where(inbox_items.c.id == activity.item_id)
                    .values(locked_by="w2")
                )
        return await original(activity)

    handlers.table["Create"][0] = Handler(
        "Create", handlers.table["Create"][0].apply, None, prepare_then_lose_lease
    )

    assert await processor.run_once() == 2

    stored = await items(engine)
    assert stored[f"{ACTORS[0]}/act/0"].state == "done"
    taken = stored[f"{ACTORS[1]}/act/1"]
    assert (taken.state, taken.locked_by) == ("pending", "w2")
    assert applied == [f"{ACTORS[0]}/act/0"]
