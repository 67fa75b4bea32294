"""publish(): the activity and its deliveries in the caller's transaction, fanned out in one
batch; and the outbox collection's pages."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.outbox import outbox_page, outbox_total, publish
from federation.tables import outbox
from federation.transactions import read, write
from tests.federation.db_fixtures import activity, delivery_rows


async def test_publish_stores_activity_and_distinct_deliveries(engine: AsyncEngine) -> None:
    inboxes = [
        "https://a.example/inbox",
        "https://b.example/users/1/inbox",
        "https://a.example/inbox",  # two followers behind one shared inbox
        "https://B.example:443/users/2/inbox",
        "not a url",  # a broken follower record must not break the caller's write
    ]
    async with write(engine) as conn:
        outbox_id = await publish(conn, activity(1), inboxes, public=True)
    async with read(engine) as conn:
        row = (await conn.execute(select(outbox))).one()
    assert row.id == outbox_id
    assert row.activity_id == "https://registry.test/activities/1"
    assert (row.type, row.object_id, row.public) == (
        "Create",
        "https://registry.test/assets/1",
        True,
    )
    assert row.body == orjson.dumps(activity(1)).decode()  # compact, the bytes that get signed
    rows = await delivery_rows(engine)
    assert [(r.inbox, r.host, r.state, r.attempts) for r in rows] == [
        ("https://a.example/inbox", "a.example", "pending", 0),
        ("https://b.example/users/1/inbox", "b.example", "pending", 0),
        ("https://B.example:443/users/2/inbox", "b.example", "pending", 0),
    ]
    assert all(r.outbox_id == outbox_id and r.locked_by is None for r in rows)


async def test_publish_rolls_back_with_the_caller(engine: AsyncEngine) -> None:
    with pytest.raises(RuntimeError):
        async with write(engine) as conn:
            await publish(conn, activity(1), ["https://a.example/inbox"], public=True)
            raise RuntimeError("the asset change failed")
    assert await delivery_rows(engine) == []
    async with read(engine) as conn:
        assert await outbox_total(conn) == 0


async def test_publish_needs_an_id_and_a_type(engine: AsyncEngine) -> None:
    async with write(engine) as conn:
        with pytest.raises(ValueError):
            await publish(conn, {"type": "Create"}, [], public=True)
        with pytest.raises(ValueError):
            await publish(conn, {"id": "https://registry.test/x"}, [], public=True)


async def test_fan_out_is_one_batched_insert(engine: AsyncEngine) -> None:
    # 1,000 followers on 50 hosts, each with its personal inbox: 1,000 deliveries.
    inboxes = [f"https://h{n % 50}.example/users/{n}/inbox" for n in range(1000)]
    statements: list[tuple[str, bool]] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append((statement, executemany))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with write(engine) as conn:
            await publish(conn, activity(1), inboxes, public=True)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    inserts = [s for s in statements if s[0].lstrip().upper().startswith("INSERT INTO DELIVERIES")]
    assert len(inserts) == 1 and inserts[0][1], statements
    assert len(await delivery_rows(engine)) == 1000


async def test_outbox_pages_newest_first(engine: AsyncEngine) -> None:
    async with write(engine) as conn:
        for n in range(7):
            await publish(conn, activity(n), [], public=n != 3)  # 3 is followers-only
    async with read(engine) as conn:
        assert await outbox_total(conn) == 6
        assert await outbox_total(conn, public_only=False) == 7
        first, cursor = await outbox_page(conn, before_id=None, limit=4)
        second, end = await outbox_page(conn, before_id=cursor, limit=4)
        everything, _ = await outbox_page(conn, before_id=None, limit=10, public_only=False)
    number = lambda items: [int(item["id"].rsplit("/", 1)[1]) for item in items]  # noqa: E731
    assert number(first) == [6, 5, 4, 2]
    assert number(second) == [1, 0]
    assert end is None
    assert number(everything) == [6, 5, 4, 3, 2, 1, 0]
