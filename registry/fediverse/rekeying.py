"""A partner's side of a group's move: its copy of a moved asset is re-keyed to the new IRI.

The new IRI must prove itself (`verified_target`: fetched from its own host, a valid asset
whose proof verifies with that host's key and whose `alsoKnownAs` names the old IRI, as
FEP-7628 asks of a Move's target). Who may say that an asset moved is decided by the callers:
the Move handler (registry/fediverse/move_handlers.py) and the sync, reading the old
origin's own changes feed (registry/fediverse/sync.py). The copy held under the old IRI becomes the
copy under the new IRI in place (its local uid and page stay) and a tombstone keeps the old
IRI from coming back, so exactly one live copy remains.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation.actors import ActorDirectory
from federation.fetcher import FetchError
from federation.hosts import InvalidHost, host_of
from registry.catalog import store as asset_store
from registry.catalog.store import next_change_seq
from registry.core import db
from registry.core.schema import LOCAL, assets, moved_assets
from registry.fediverse.copy_reading import CopyRefused, RemoteCopy, is_commons_asset
from registry.fediverse.mirror import apply_copies, check_copy, copy_row
from registry.fediverse.moves import COPY, record_moves
from registry.fediverse.portability import ArchiveError
from vocab.times import utcnow

log = logging.getLogger("registry.fediverse.rekeying")


async def rekey_copy(conn: AsyncConnection, old_iri: str, copy: RemoteCopy) -> str:
    """Make the copy held under `old_iri` the copy under the new IRI; one live copy stays."""
    new_iri, old_host = copy.meta.iri, host_of(old_iri)
    seq = await next_change_seq(conn)  # the lock before the look, as in registry.fediverse.mirror
    old = await asset_store.find_by_iri(conn, old_iri)
    new = await asset_store.find_by_iri(conn, new_iri)
    if (old is not None and old.origin == LOCAL) or (new is not None and new.origin == LOCAL):
        raise ArchiveError("a Move may not touch this node's own assets")
    now = utcnow()
    if old is not None and old.deleted_at is None and new is None:
        await conn.execute(
            update(assets).where(assets.c.id == old.id).values(iri=new_iri, origin=copy.origin)
        )
        updated = copy.meta.updated or copy.meta.published or now
        row = copy_row(copy, uid=old.uid, seq=seq, updated=updated)
        await asset_store.replace_assets(conn, [(old.id, row)])
        await asset_store.insert_tombstone(conn, iri=old_iri, origin=old_host, at=now, seq=seq + 1)
        outcome = "re-keyed in place"
    else:
        await apply_copies(conn, [copy])
        if old is None:
            await asset_store.insert_tombstone(
                conn, iri=old_iri, origin=old_host, at=now, seq=await next_change_seq(conn)
            )
        elif old.deleted_at is None:
            await asset_store.mark_deleted(conn, old.id, now, await next_change_seq(conn))
        outcome = "new copy held; the old one is a tombstone"
    await record_moves(conn, [(old_iri, new_iri)], COPY, None)
    return outcome


async def not_yet_moved(engine: AsyncEngine, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (old, new) pairs this node has not followed yet (a replayed feed costs no fetch)."""
    if not pairs:
        return []
    async with db.read(engine) as conn:
        done = {
            row.old_iri
            for row in await conn.execute(
                select(moved_assets.c.old_iri).where(
                    moved_assets.c.old_iri.in_([old for old, _ in pairs])
                )
            )
        }
    return [(old, new) for old, new in pairs if old not in done]


async def verified_target(directory: ActorDirectory, old: str, new: str) -> RemoteCopy:
    """The asset at `new`, fetched from its own host: a valid asset whose proof verifies with
    that host's key and whose `alsoKnownAs` names `old` (FEP-7628). CopyRefused says why not;
    FetchError (from the fetch) is left to the caller, which may retry."""
    new_host = host_of(new)
    fetched = await directory.failures.fetch(directory.fetcher, new)
    if not is_commons_asset(fetched.data):
        raise CopyRefused(f"the Move's target {new} is not a commons asset")
    try:
        copy = await check_copy(fetched.data, from_host=new_host, directory=directory)
    except CopyRefused as exc:
        raise CopyRefused(f"the Move's target is refused: {exc}") from None
    if copy.meta.iri != new:
        raise CopyRefused(f"the Move's target {new} answers as {copy.meta.iri}")
    if not copy.proof_checked:
        raise CopyRefused(f"the Move's target {new} carries no integrity proof")
    if old not in copy.meta.also_known_as:
        raise CopyRefused(f"the Move's target {new} does not name {old} in alsoKnownAs")
    return copy


async def verified_moves(
    directory: ActorDirectory, moves: list[tuple[str, str]]
) -> dict[str, RemoteCopy]:
    """The moves a changes feed told of (old IRI, new IRI) not followed yet, each new copy
    verified where it now lives; the others are logged and left."""
    verified = {}
    for old, new in await not_yet_moved(directory.engine, moves):
        try:
            verified[old] = await verified_target(directory, old, new)
        except (CopyRefused, FetchError, InvalidHost) as exc:
            log.info("%s moved to %s, not followed: %s", old, new, exc)
    return verified


async def rekey_copies(conn: AsyncConnection, verified: dict[str, RemoteCopy]) -> None:
    """Re-key each verified copy; one naming an asset of ours is refused and dropped."""
    for old, copy in list(verified.items()):
        try:
            await rekey_copy(conn, old, copy)
        except ArchiveError as exc:
            log.warning("%s moved to %s, refused: %s", old, copy.meta.iri, exc)
            del verified[old]
