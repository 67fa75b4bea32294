"""Many rows stored at once go in by COPY on PostgreSQL (registry.catalog.bulk_rows) and by
one INSERT elsewhere. Either way each copy is stored whole, searchable and in order, the
values are bound as their columns' types bind them, a failure is the INSERT's error and
keeps nothing, and nothing is written outside the caller's transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.tables import seen_signatures
from registry.catalog import bulk_rows
from registry.catalog import store as asset_store
from registry.core import db, stored_documents
from registry.core.schema import asset_documents, asset_search, asset_tags, assets
from registry.fediverse.mirror import apply_copies, copy_row
from tests.registry.test_mirror_rules import ORIGIN, T0, copy
from vocab.times import as_utc

BATCH = bulk_rows.COPY_MIN_ROWS + 2


def batch(count: int, start: int = 0) -> list:
    return [
        copy(f"Bulk fablab {n}", T0 + timedelta(seconds=n), iri=f"https://{ORIGIN}/assets/b{n}")
        for n in range(start, start + count)
    ]


class Rollback(Exception):
    pass


async def test_a_batch_and_a_single_copy_are_stored_whole_and_in_order(
    engine: AsyncEngine,
) -> None:
    many, one = batch(BATCH), batch(1, start=BATCH)
    async with db.write(engine) as conn:
        assert bulk_rows.copies(conn, BATCH) == (engine.dialect.name == "postgresql")
        assert not bulk_rows.copies(conn, 1)
        assert (await apply_copies(conn, many))["created"] == BATCH
    async with db.write(engine) as conn:
        assert (await apply_copies(conn, one))["created"] == 1
    sent = {c.meta.iri: c for c in many + one}
    async with db.read(engine) as conn:
        rows = (
            await conn.execute(
                select(assets, asset_documents.c.document)
                .join(asset_documents, asset_documents.c.asset_id == assets.c.id)
                .order_by(assets.c.id)
            )
        ).all()
        tags = await conn.scalar(select(func.count()).select_from(asset_tags))
        searchable = await conn.scalar(select(func.count()).select_from(asset_search))
    # Ids follow the batch's order, and the single copy after it has a later one.
    assert [row.iri for row in rows] == list(sent)
    for row in rows:
        held = sent[row.iri]
        assert row.name == f"Bulk fablab {row.iri.rsplit('/b', 1)[1]}"
        assert stored_documents.load(row.document) == held.document
        assert row.content_hash == held.form.content_hash and row.origin == ORIGIN
        assert as_utc(row.updated_at) == (held.meta.updated or held.meta.published)
    assert searchable == BATCH + 1
    assert tags == sum(len(c.form.projection.tags) for c in sent.values())
    # The search reads what COPY wrote (the search vector is computed by PostgreSQL).
    async with db.read(engine) as conn:
        found = await asset_store.find_by_iris(conn, [many[3].meta.iri])
    assert [row.iri for row in found] == [many[3].meta.iri]


async def test_a_failing_batch_raises_the_inserts_error_and_keeps_nothing(
    engine: AsyncEngine,
) -> None:
    copies = batch(BATCH)
    rows = [copy_row(c, uid=asset_store.new_uid(), seq=n, updated=T0) for n, c in enumerate(copies)]
    rows[-1] = replace(rows[-1], uid=rows[0].uid)  # one uid twice: the batch is refused
    async with db.write(engine) as conn:
        with pytest.raises(IntegrityError):
            async with conn.begin_nested():
                await asset_store.insert_assets(conn, rows)
        # The transaction goes on after the savepoint's rollback.
        assert (await apply_copies(conn, batch(BATCH, start=100)))["created"] == BATCH
    async with db.read(engine) as conn:
        iris = set((await conn.execute(select(assets.c.iri))).scalars())
    assert iris == {c.meta.iri for c in batch(BATCH, start=100)}


@pytest.mark.parametrize("first", [True, False], ids=["first-statement", "after-a-statement"])
async def test_rows_are_written_in_the_callers_transaction(
    engine: AsyncEngine, first: bool
) -> None:
    expires = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    rows = [
        {"digest": f"{n:064x}", "expires_at": expires + timedelta(minutes=n)} for n in range(BATCH)
    ]
    with pytest.raises(Rollback):
        async with db.write(engine) as conn:
            if not first:
                await conn.execute(text("SELECT 1"))
            await bulk_rows.insert_rows(conn, seen_signatures, rows)
            held = (await conn.execute(select(seen_signatures.c.expires_at))).scalars().all()
            # Bound as the column's type binds them: the same instants read back.
            assert sorted(map(as_utc, held)) == [row["expires_at"] for row in rows]
            raise Rollback
    async with db.read(engine) as conn:
        assert await conn.scalar(select(func.count()).select_from(seen_signatures)) == 0
