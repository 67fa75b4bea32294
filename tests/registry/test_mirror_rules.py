"""The mirror's rules for one copy, whatever order pushes and pulls arrive in: only newer
versions replace a copy, an Update before its Create creates, a Delete leaves a tombstone
that a late Create or Update cannot undo, our own assets are never overwritten, and only
the origin's host may delete."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncEngine

import vocab
from registry.core import db
from registry.core.schema import assets
from registry.fediverse.copy_reading import CopyRefused, RemoteCopy
from registry.fediverse.mirror import apply_copies, apply_copy, apply_delete

ORIGIN = "partner.example"
IRI = f"https://{ORIGIN}/assets/abc"
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def copy(name: str, updated: datetime, iri: str = IRI) -> RemoteCopy:
    record = vocab.validate_asset_input({"name": name, "kind": "fablab"})
    meta = vocab.AssetMeta(iri=iri, published=T0, updated=updated)
    document = vocab.asset_document(record, meta, f"https://{ORIGIN}/tags/")
    record, meta = vocab.read_asset_document(document)
    return RemoteCopy.of(document, record, meta, ORIGIN, proof_checked=False)


async def held(engine: AsyncEngine, iri: str = IRI) -> Row | None:
    async with db.read(engine) as conn:
        query = select(assets.c.name, assets.c.origin, assets.c.deleted_at)
        return (await conn.execute(query.where(assets.c.iri == iri))).first()


async def apply(engine: AsyncEngine, *copies: RemoteCopy) -> list[tuple[str, bool]]:
    results = []
    for one in copies:
        async with db.write(engine) as conn:
            results.append(await apply_copy(conn, one))
    return results


async def delete(engine: AsyncEngine, at: datetime, from_host: str = ORIGIN) -> tuple[str, bool]:
    async with db.write(engine) as conn:
        return await apply_delete(conn, IRI, from_host=from_host, at=at)


async def test_a_copy_from_a_worker_is_stored_without_reading_it_again(
    engine: AsyncEngine,
) -> None:
    """A copy crosses from a check worker as its stored form and meta; storing it reads
    neither its record nor its document back (reading the record back took a sync's
    process 0.15-0.3 ms more a copy: docs/performance.md, fifteenth pass)."""
    sent = copy("Crossed", T0)
    crossed = pickle.loads(pickle.dumps(sent))
    assert crossed == sent and "record" not in vars(crossed) and "document" not in vars(crossed)
    assert await apply(engine, crossed) == [("created", True)]
    assert "record" not in vars(crossed) and "document" not in vars(crossed)
    stored = await held(engine)
    assert stored is not None and stored.name == "Crossed"
    assert crossed.record == sent.record and crossed.document == sent.document  # when asked


async def test_newer_replaces_older_never_the_reverse(engine: AsyncEngine) -> None:
    v1, v2 = copy("First", T0), copy("Second", T0 + timedelta(hours=1))
    assert await apply(engine, v1, v2, v1) == [
        ("created", True),
        ("updated", True),
        ("ignored: not newer than the copy held, or deleted", False),
    ]
    stored = await held(engine)
    assert stored is not None and stored.name == "Second"
    assert stored.origin == ORIGIN


async def test_an_update_that_arrives_first_creates(engine: AsyncEngine) -> None:
    # The Update (v2) overtook its Create (v1): the copy is v2 and stays v2.
    assert [r for r, _ in await apply(engine, copy("v2", T0 + timedelta(minutes=5)))] == ["created"]
    await apply(engine, copy("v1", T0))
    stored = await held(engine)
    assert stored is not None and stored.name == "v2"


async def test_a_tombstone_outranks_late_creates_and_updates(engine: AsyncEngine) -> None:
    await apply(engine, copy("Alive", T0))
    assert await delete(engine, T0 + timedelta(hours=1)) == ("deleted", True)
    late = await apply(engine, copy("Back?", T0 + timedelta(hours=2)), copy("Alive", T0))
    assert [changed for _, changed in late] == [False, False]
    stored = await held(engine)
    assert stored is not None and stored.deleted_at is not None and stored.name == "Alive"


async def test_a_delete_before_the_create_is_remembered(engine: AsyncEngine) -> None:
    assert (await delete(engine, T0))[1] is True
    assert await apply(engine, copy("Too late", T0 - timedelta(minutes=1))) == [
        ("ignored: not newer than the copy held, or deleted", False)
    ]
    stored = await held(engine)
    assert stored is not None and stored.deleted_at is not None


async def test_only_the_origin_host_deletes(engine: AsyncEngine) -> None:
    await apply(engine, copy("Mine to delete", T0))
    with pytest.raises(CopyRefused):
        await delete(engine, T0 + timedelta(hours=1), from_host="other.example")
    stored = await held(engine)
    assert stored is not None and stored.deleted_at is None


async def test_one_batch_with_the_same_iri_twice_keeps_the_newest(engine: AsyncEngine) -> None:
    async with db.write(engine) as conn:
        counts = await apply_copies(
            conn, [copy("Old", T0), copy("New", T0 + timedelta(seconds=1)), copy("Old", T0)]
        )
    assert counts["created"] == 1
    stored = await held(engine)
    assert stored is not None and stored.name == "New"
