"""Sample data sets shipped inside the package, so that a new node has something to show.

Each sample is third-party data with its attribution and licence beside it (ATTRIBUTION.txt,
and the licence text). It is imported as a group of its own, marked with the sample's name, so
that one command (`commons-registry sample remove NAME`) takes it away again, federating the
deletions like any other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog.assets import AssetService
from registry.catalog.importers import ImportReport
from registry.core import db
from registry.core.schema import assets as assets_table
from registry.core.schema import groups
from registry.people import accounts, admin_log


@dataclass(frozen=True)
class Sample:
    name: str
    title: str
    filename: str
    format: str  # the importer adapter that reads it
    attribution: str
    licence_file: str
    group_name: str
    group_slug: str

    @property
    def path(self) -> Path:
        """The packaged file (a real file in a normal or editable install)."""
        return Path(str(resources.files(__package__) / self.filename))

    @property
    def licence_path(self) -> Path:
        return Path(str(resources.files(__package__) / self.licence_file))


FABLABS = Sample(
    name="fablabs",
    title="2,237 fablabs and makerspaces from fablabs.io",
    filename="fablabs.okw.json.gz",
    format="okw",
    attribution=(
        "Open Know-Where facilities data, Internet of Production Alliance (2024), "
        "from fablabs.io, CC BY 4.0"
    ),
    licence_file="CC-BY-4.0.txt",
    group_name="Sample data: fablabs.io (Open Know-Where)",
    group_slug="sample-fablabs",
)

SAMPLES: dict[str, Sample] = {sample.name: sample for sample in (FABLABS,)}


def get(name: str) -> Sample:
    try:
        return SAMPLES[name]
    except KeyError:
        known = ", ".join(sorted(SAMPLES))
        raise ValueError(f"there is no sample {name!r} (known: {known})") from None


@dataclass(frozen=True)
class LoadedSample:
    sample: Sample
    group_slug: str
    assets: int


async def load(
    assets: AssetService, sample: Sample, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Import a sample into its own group, marked as sample data. Loading it again changes
    nothing (the importer keys rows by their source records)."""
    from registry.catalog.importers import adapter_for, run_import

    async with db.write(assets.engine) as conn:
        group_id = await accounts.ensure_group(conn, sample.group_name, sample.group_slug)
        await conn.execute(update(groups).where(groups.c.id == group_id).values(sample=sample.name))
    _held_cache.clear()
    adapter = adapter_for(sample.path, sample.format)
    return await run_import(
        assets, adapter, sample.path, group_slug=sample.group_slug, progress=progress
    )


async def remove(assets: AssetService, sample: Sample, *, by: str) -> int:
    """Delete every asset of the sample's groups (tombstones, federated as deletions) and the
    groups with their tokens, in one transaction; returns how many assets went."""
    removed = 0
    async with db.write(assets.engine) as conn:
        marked = await conn.execute(
            select(groups.c.id, groups.c.slug).where(groups.c.sample == sample.name)
        )
        for group_id, slug in marked.all():
            # Forget the source keys: loading the sample again then makes new IRIs, which
            # partners accept, instead of reviving tombstones they hold as deleted.
            count = await assets.remove_group_assets(conn, group_id, forget_source=True)
            await conn.execute(delete(groups).where(groups.c.id == group_id))
            await admin_log.record(
                conn, by, "sample.remove", slug, f"{count} assets of the {sample.name} sample"
            )
            removed += count
    _held_cache.clear()
    assets.after_commit()
    return removed


_HELD_TTL = 10.0  # seconds: pages show the notice without a query per view
_held_cache: dict[int, tuple[float, list[Sample]]] = {}


async def held(engine: AsyncEngine) -> list[Sample]:
    """The samples this node holds (for the pages' attribution notice), cached briefly."""
    cached = _held_cache.get(id(engine))
    if cached and time.monotonic() - cached[0] < _HELD_TTL:
        return cached[1]
    query = select(groups.c.sample).where(groups.c.sample.is_not(None)).distinct()
    async with db.read(engine) as conn:
        names = sorted((await conn.execute(query)).scalars())
    found = [SAMPLES[name] for name in names if name in SAMPLES]
    _held_cache[id(engine)] = (time.monotonic(), found)
    return found


async def loaded(engine: AsyncEngine) -> list[LoadedSample]:
    """The samples this node holds, with the number of live assets of each."""
    live = (assets_table.c.group_id == groups.c.id) & assets_table.c.deleted_at.is_(None)
    query = (
        select(groups.c.sample, groups.c.slug, func.count(assets_table.c.id))
        .select_from(groups.outerjoin(assets_table, live))
        .where(groups.c.sample.is_not(None))
        .group_by(groups.c.sample, groups.c.slug)
        .order_by(groups.c.sample)
    )
    async with db.read(engine) as conn:
        rows = (await conn.execute(query)).all()
    return [
        LoadedSample(SAMPLES[name], slug, count) for name, slug, count in rows if name in SAMPLES
    ]
