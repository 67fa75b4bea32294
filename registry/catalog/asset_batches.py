"""Imports: many records written in one transaction, keyed by their source reference."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

import orjson

import vocab
from registry.catalog import store as asset_store
from registry.catalog.asset_changes import AssetChange
from registry.catalog.store import (
    AssetRow,
    next_change_seq,
    next_version_time,
    select_assets,
)
from registry.core import db
from registry.core.schema import LOCAL, PUBLISHED, assets
from vocab.times import as_utc, utcnow

if TYPE_CHECKING:
    from registry.catalog.assets import AssetService

IRI_REF = "iri:"  # an import reference naming one of our own assets by its IRI


async def import_batch(
    service: AssetService,
    group_id: int,
    items: Iterable[tuple[str, vocab.AssetRecord]],
    *,
    dry_run: bool = False,
) -> dict[str, int]:
    """Insert or update many records in one transaction, keyed by their source reference.

    A reference `iri:{IRI}` (a row of our own export) names the local asset with that IRI:
    it is updated in place, keeping its group and its original source reference.
    Re-running an import changes nothing for records that did not change. With `dry_run`
    the counts are computed and nothing is written.
    """
    items = list(items)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    await service.load_keys()
    if not items:
        return counts
    async with db.write(service.engine) as conn:
        refs = [ref for ref, _ in items]
        iris = [ref[4:] for ref in refs if ref.startswith(IRI_REF)]
        async with db.planned_for_values(conn):
            by_ref = select_assets().where(assets.c.source_ref.in_(refs))
            existing = {row.source_ref: row for row in await conn.execute(by_ref)}
            if iris:
                by_iri = select_assets().where(assets.c.iri.in_(iris), assets.c.origin == LOCAL)
                for row in await conn.execute(by_iri):
                    existing[IRI_REF + row.iri] = row
        seq = await next_change_seq(conn)
        now = utcnow()
        rules = {group_id: await service.group_rules(conn, group_id)}
        slug, default_visibility, default_license = rules[group_id]
        new_rows: list[AssetRow] = []
        changed: list[tuple[int, AssetRow]] = []
        was: dict[int, str | None] = {}
        for ref, record in items:
            old = existing.get(ref)
            if record.license is None and default_license:
                record = dataclasses.replace(record, license=default_license)
            if old is None:
                new_rows.append(
                    service.local_row(
                        record,
                        uid=asset_store.new_uid(),
                        group_id=group_id,
                        moderation=PUBLISHED,
                        created=now,
                        updated=now,
                        seq=seq,
                        source_ref=ref,
                        visibility=default_visibility,
                        group_slug=slug,
                    )
                )
                seq += 1
                continue
            old_record, _ = vocab.read_asset_document(orjson.loads(old.document))
            if old_record == record and old.deleted_at is None:
                counts["unchanged"] += 1
                continue
            owner = old.group_id if ref.startswith(IRI_REF) else group_id
            if owner not in rules:
                rules[owner] = await service.group_rules(conn, owner)
            changed.append(
                (
                    old.id,
                    service.local_row(
                        record,
                        uid=old.uid,
                        group_id=owner,
                        visibility=old.visibility,
                        group_slug=rules[owner][0],
                        moderation=PUBLISHED,
                        created=as_utc(old.created_at),
                        updated=next_version_time(old.updated_at),
                        seq=seq,
                        source_ref=old.source_ref if ref.startswith(IRI_REF) else ref,
                    ),
                )
            )
            # Who saw it before this change (None: nobody, it was not public).
            was[old.id] = (
                old.visibility if old.deleted_at is None and old.moderation == PUBLISHED else None
            )
            seq += 1
        if dry_run:
            await conn.rollback()
            counts["created"], counts["updated"] = len(new_rows), len(changed)
            return counts
        ids = await asset_store.insert_assets(conn, new_rows)
        await asset_store.replace_assets(conn, changed)
        was.update(dict.fromkeys(ids))  # new: nobody saw them before
        changes = [
            AssetChange(
                "create" if was[asset_id] is None else "update",
                asset_id,
                row.iri,
                row.document,
                True,
                now,
                "import",
                visibility=row.visibility,
                was=was[asset_id],
                group_id=row.group_id,
            )
            for asset_id, row in [*zip(ids, new_rows, strict=True), *changed]
        ]
        for change in changes:
            await service.notify(conn, change)
    service.after_commit()
    counts["created"], counts["updated"] = len(new_rows), len(changed)
    return counts
