"""The mirror: how partners' assets become (and stay) copies in the local catalog.

A copy is keyed by its origin IRI and stored verbatim (proof included), so it can be served
onwards and its content hash matches the origin's. Only the origin's host may change a copy;
an older version never replaces a newer one; a deletion leaves a tombstone that a late Create
or Update cannot bring back. How a partner's document is read and checked is
registry.fediverse.copy_reading's.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy.ext.asyncio import AsyncConnection

from federation import proofs
from federation.actors import ActorDirectory, ActorError
from federation.hosts import host_of
from registry.catalog import store as asset_store
from registry.catalog.store import AssetRow, next_change_seq
from registry.core.schema import LOCAL, PUBLISHED
from registry.fediverse.copy_reading import CopyRefused, RemoteCopy, examine, precheck
from vocab.times import as_utc, utcnow

log = logging.getLogger("registry.fediverse.mirror")


async def check_copy(document: Any, *, from_host: str, directory: ActorDirectory) -> RemoteCopy:
    """Validate a remote asset document and its origin (network: the proof key may be fetched).

    `from_host` is the host that vouches for the document: the signer of a Create/Update, or
    the host it was fetched from. It must be the document's own host.
    """
    method = precheck(document, from_host)
    key = await proof_key(method, directory, fresh=False)
    try:
        return examine(document, from_host, key)
    except proofs.ProofError as first:
        # The origin may have rotated its key: look once more before refusing.
        key = await proof_key(method, directory, fresh=True)
        try:
            if key is None:
                raise first
            return examine(document, from_host, key)
        except proofs.ProofError as exc:
            iri = document.get("id")
            log.warning("refused %s: its integrity proof fails: %s", iri, exc.reason)
            raise CopyRefused(f"the integrity proof of {iri} fails: {exc.reason}") from None


async def proof_key(
    method: str | None, directory: ActorDirectory, *, fresh: bool
) -> ed25519.Ed25519PublicKey | None:
    """The key `precheck` named (None without a proof); `fresh` fetches it again."""
    if method is None:
        return None
    try:
        key = await directory.resolve_key(method, fresh)
    except ActorError as exc:
        raise CopyRefused(f"the proof key {method} cannot be fetched: {exc}") from None
    if key is None:
        raise CopyRefused(f"the proof key {method} was not found")
    return key.public_key  # type: ignore[return-value]  # verify_object refuses any other type


def copy_row(copy: RemoteCopy, *, uid: str, seq: int, updated: datetime) -> AssetRow:
    """A partner's copy as stored here, under its origin IRI."""
    return AssetRow(
        uid=uid,
        iri=copy.meta.iri,
        origin=copy.origin,
        group_id=None,
        moderation=PUBLISHED,
        # Its stored form is made: neither the record nor the document is read again.
        record=None,
        document=None,
        created=copy.meta.published or updated,
        updated=updated,
        seq=seq,
        # A copy keeps the origin's rule: a partners-only asset stays with partners here.
        visibility=copy.visibility,
        form=copy.form,
    )


async def apply_copies(conn: AsyncConnection, copies: list[RemoteCopy]) -> dict[str, int]:
    """Store each copy unless the one held is as new, deleted, or ours; in one batch."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
    for outcome in await store_copies(conn, copies):
        counts[outcome] += 1
    return counts


async def store_copies(conn: AsyncConnection, copies: list[RemoteCopy]) -> list[str]:
    """`apply_copies`, telling what became of each copy: created, updated, unchanged (not
    newer than the one held, or deleted) or refused (our own asset)."""
    if not copies:
        return []
    # The change-sequence lock first (on PostgreSQL it serialises every catalog write), and
    # only then look for the copies held: the inbox worker, the background sync and
    # `commons-registry sync` may bring the same asset at once, and a look taken before the
    # lock would miss a row another of them is committing (a unique-constraint error).
    seq = await next_change_seq(conn)
    held = {
        row.iri: row for row in await asset_store.find_by_iris(conn, [c.meta.iri for c in copies])
    }
    outcomes: list[str] = []
    newest: dict[str, tuple[int, AssetRow]] = {}  # a new IRI -> (its copy's index, its row)
    changed: list[tuple[int, AssetRow]] = []
    for index, copy in enumerate(copies):
        row = held.get(copy.meta.iri)
        updated = copy.meta.updated or copy.meta.published or utcnow()
        if row is not None and (row.origin == LOCAL or row.deleted_at is not None):
            # Never overwrite our own asset; a tombstone outranks any late copy.
            outcomes.append("refused" if row.origin == LOCAL else "unchanged")
            continue
        if row is not None and as_utc(row.updated_at) >= updated:
            outcomes.append("unchanged")
            continue
        stored = copy_row(
            copy, uid=row.uid if row else asset_store.new_uid(), seq=seq, updated=updated
        )
        seq += 1
        if row is not None:
            changed.append((row.id, stored))
            outcomes.append("updated")
            continue
        # The same new IRI twice in one batch: only the newest is stored.
        earlier = newest.get(stored.iri)
        if earlier is not None and earlier[1].updated >= stored.updated:
            outcomes.append("unchanged")
            continue
        if earlier is not None:
            outcomes[earlier[0]] = "unchanged"
        newest[stored.iri] = (index, stored)
        outcomes.append("created")
    await asset_store.insert_assets(conn, [row for _, row in newest.values()])
    await asset_store.replace_assets(conn, changed)
    return outcomes


COPY_OUTCOMES = {
    "created": "created",
    "updated": "updated",
    "refused": "refused",
    "unchanged": "ignored: not newer than the copy held, or deleted",
}


async def apply_copy(conn: AsyncConnection, copy: RemoteCopy) -> tuple[str, bool]:
    """One copy (a live Create, Update or Announce); returns (what happened, changed)."""
    (outcome,) = await store_copies(conn, [copy])
    return COPY_OUTCOMES[outcome], outcome in ("created", "updated")


async def apply_delete(
    conn: AsyncConnection, iri: str, *, from_host: str, at: datetime | None = None
) -> tuple[str, bool]:
    """Tombstone a copy (or remember the deletion of one never seen)."""
    if host_of(iri) != from_host:
        raise CopyRefused(f"{from_host} may not delete {iri}: only its own host may")
    seq = await next_change_seq(conn)  # the lock before the look, as in apply_copies
    held = await asset_store.find_by_iri(conn, iri)
    now = utcnow()
    if held is None:
        await asset_store.insert_tombstone(conn, iri=iri, origin=from_host, at=at or now, seq=seq)
        return "tombstone recorded for an asset never seen", True
    if held.origin == LOCAL:
        return "refused: this node is the asset's origin", False
    if held.deleted_at is not None:
        return "already deleted", False
    await asset_store.mark_deleted(conn, held.id, at or now, seq)
    return "deleted", True
