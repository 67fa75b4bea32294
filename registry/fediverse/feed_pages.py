"""One page of a partner's changes feed: its documents checked (CPU, and a key fetched now
and then), then stored with the new checkpoint in one transaction (registry/fediverse/sync.py
runs the two steps of successive pages side by side)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update

from federation.hosts import InvalidHost
from registry.core import db
from registry.core.schema import partners
from registry.fediverse.federation import Federation
from registry.fediverse.mirror import (
    CopyRefused,
    RemoteCopy,
    apply_copies,
    apply_delete,
    check_copy,
    on_host,
)
from registry.fediverse.partners import Partner
from registry.fediverse.rekeying import moved_target, rekey_copies, verified_moves


@dataclass
class SyncReport:
    partner: str
    pages: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    refused: int = 0
    full_diff: bool = False
    diff_deleted: int = 0
    checkpoint: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        diff = f", full comparison deleted {self.diff_deleted}" if self.full_diff else ""
        return (
            f"{self.partner}: {self.pages} pages, {self.created} created, {self.updated} "
            f"updated, {self.deleted} deleted, {self.unchanged} unchanged, {self.refused} "
            f"refused{diff} in {self.seconds:.1f} s (checkpoint {self.checkpoint})"
        )


@dataclass
class CheckedPage:
    """A feed page after its documents were checked: what `store_page` writes."""

    copies: list[RemoteCopy]
    deletions: list[tuple[str, datetime | None]]
    moves: list[tuple[str, str]]
    last_seq: int


YIELD_EVERY = 8  # documents checked between two turns of the event loop


async def check_page(
    federation: Federation, partner: Partner, items: list[Any], context: Any, report: SyncReport
) -> CheckedPage:
    copies, deletions, moves, last_seq = [], [], [], report.checkpoint
    for number, item in enumerate(items, 1):
        if number % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # let the page before be written meanwhile
        if not isinstance(item, dict):
            report.refused += 1
            continue
        seq = item.get("commons:seq")
        if isinstance(seq, int):
            last_seq = max(last_seq, seq)
        obj = item.get("object")
        if item.get("type") == "Delete":
            iri = obj.get("id") if isinstance(obj, dict) else obj
            if isinstance(iri, str):
                deleted = _when((obj or {}).get("deleted")) if isinstance(obj, dict) else None
                deletions.append((iri, deleted))
                moved = moved_target(obj)
                if moved is not None and on_host(iri, partner.host):
                    moves.append((iri, moved))
            continue
        if isinstance(obj, dict) and "@context" not in obj and context is not None:
            obj = {"@context": context, **obj}  # the page carried the context once
        try:
            copies.append(
                await check_copy(obj, from_host=partner.host, directory=federation.directory)
            )
        except CopyRefused as exc:
            report.refused += 1
            if len(report.errors) < 20:
                report.errors.append(str(exc))
    return CheckedPage(copies, deletions, moves, last_seq)


async def store_page(
    federation: Federation, partner: Partner, checked: CheckedPage, report: SyncReport
) -> None:
    # A moved asset (its origin says where in the tombstone): re-key the copy like a Move,
    # once the new IRI proves it, instead of deleting it; the Move itself may have been lost.
    rekeyed = await verified_moves(federation.directory, checked.moves)
    async with db.write(federation.engine) as conn:
        await rekey_copies(conn, rekeyed)
        outcome = await apply_copies(conn, checked.copies)
        report.created += outcome["created"]
        report.updated += outcome["updated"]
        report.unchanged += outcome["unchanged"]
        for iri, deleted in checked.deletions:
            if iri in rekeyed:
                continue
            try:
                _what, changed = await apply_delete(conn, iri, from_host=partner.host, at=deleted)
            except (CopyRefused, InvalidHost):
                report.refused += 1
                continue
            report.deleted += int(changed)
        # The checkpoint moves with the page, in the same transaction: a crash replays
        # nothing and loses nothing.
        await conn.execute(
            update(partners)
            .where(partners.c.id == partner.id)
            .values(checkpoint_seq=checked.last_seq)
        )
    report.checkpoint = checked.last_seq
    report.pages += 1


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
