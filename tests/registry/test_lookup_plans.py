"""A batch's lookup of the copies held is planned for its own IRIs and the table as it is
(registry.core.db.planned_for_values), never by a generic plan made while the table was
small. Found measuring B2 on PostgreSQL: a new mirror's backfill looked up each page's
hundred IRIs with the plan made after its fifth page, a scan of the whole table that built
the list of IRIs again for every row; a page's store took 18 ms at the start of a
10,000-asset backfill and 50 ms at its end (docs/performance.md, seventeenth pass)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog import store as asset_store
from registry.core import db
from registry.fediverse.mirror import apply_copies
from tests.registry.test_mirror_rules import ORIGIN, T0, copy

PAGES, PAGE = 8, 20  # more pages than PostgreSQL's five custom plans before a generic one


def page(number: int) -> list:
    return [
        copy(
            f"Looked-up fablab {number}-{n}",
            T0 + timedelta(seconds=number * PAGE + n),
            iri=f"https://{ORIGIN}/assets/p{number}-{n}",
        )
        for n in range(PAGE)
    ]


async def test_every_batch_lookup_is_planned_for_its_own_iris(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:  # one session: the one its prepared statements live in
        for number in range(PAGES):
            async with conn.begin():
                assert (await apply_copies(conn, page(number)))["created"] == PAGE
                if engine.dialect.name == "postgresql":  # back to the server's setting after
                    assert (await conn.scalar(text("SHOW plan_cache_mode"))) == "auto"
        async with conn.begin():
            held = await asset_store.find_by_iris(conn, [c.meta.iri for c in page(PAGES - 1)])
        assert len(held) == PAGE
        if engine.dialect.name != "postgresql":
            return
        plans = (
            await conn.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE 'SELECT assets.id, assets.iri, assets.uid%'"
                )
            )
        ).all()
    assert plans, "the lookup is a prepared statement of this session"
    assert sum(p.generic_plans for p in plans) == 0
    assert sum(p.custom_plans for p in plans) == PAGES + 1


async def test_the_setting_ends_with_the_lookup_even_when_it_fails(engine: AsyncEngine) -> None:
    """A lookup that fails leaves its transaction to roll back, the setting with it."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as conn:
        try:
            async with conn.begin(), db.planned_for_values(conn):
                await conn.execute(text("SELECT 1 / 0"))
        except Exception as exc:  # division by zero
            assert "division by zero" in str(exc)
        assert (await conn.scalar(text("SHOW plan_cache_mode"))) == "auto"
