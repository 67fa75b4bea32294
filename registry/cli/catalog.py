"""The catalog's commands: import a file, and the bundled sample data sets."""

from __future__ import annotations

import sys
import time
from argparse import Namespace
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

import vocab
from registry.catalog import samples
from registry.catalog.assets import AssetService
from registry.catalog.importers import adapter_for, run_import
from registry.cli.shared import (
    SAMPLE_NAMES,
    Progress,
    load_sample,
    on_engine,
    on_federation,
    with_engine,
)
from registry.cli.table import arg, command, command_group
from registry.config import Settings
from registry.fediverse.federation import Federation
from registry.people import accounts
from registry.runtime import Runtime


@command(
    "import",
    help="import assets from a file (OKW JSON, CSV)",
    arguments=[
        arg("file", nargs="?"),
        arg(
            "--sample",
            choices=SAMPLE_NAMES,
            metavar="NAME",
            help=f"load a bundled sample data set instead ({', '.join(SAMPLE_NAMES)})",
        ),
        arg("--format", choices=["okw", "csv"]),
        arg("--mapping", help="column-mapping file for CSV (TOML or JSON)"),
        arg("--group", help="slug of the group that will own the assets"),
        arg("--encoding", help="text encoding of a CSV file (default UTF-8)"),
        arg("--dry-run", action="store_true", help="show what would change; write nothing"),
    ],
)
def import_file(settings: Settings, args: Namespace) -> int:
    if args.sample:
        return with_engine(settings, lambda engine: load_sample(settings, engine, args.sample))
    if not args.file:
        print("error: name a FILE to import, or --sample NAME", file=sys.stderr)
        return 2
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path} is not a file", file=sys.stderr)
        return 2
    options = {"mapping": args.mapping} if args.mapping else {}
    if args.encoding:
        options["encoding"] = args.encoding
    try:
        adapter = adapter_for(path, args.format, **options)
        total = sum(1 for _ in adapter.rows(path))
    except (ValueError, OSError, vocab.ValidationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    async def work(engine: AsyncEngine) -> int:
        started = time.monotonic()
        report = await run_import(
            AssetService(engine, settings),
            adapter,
            path,
            group_slug=args.group,
            progress=Progress(f"importing {path.name}", total),
            dry_run=args.dry_run,
        )
        if args.dry_run:
            print("dry run: nothing was written; this is what the import would do")
        for line in report.lines():
            print(line)
        print(f"took {time.monotonic() - started:.1f} s")
        if adapter.attribution:
            print(f"attribution: {adapter.attribution}")
        return 0

    return with_engine(settings, work)


command_group("sample", help="bundled sample data sets (see also init --sample)")


@command("sample list", help="the samples, their attribution and whether they are loaded")
@on_engine
async def sample_list(engine: AsyncEngine, args: Namespace) -> int:
    held = {item.sample.name: item for item in await samples.loaded(engine)}
    for sample in samples.SAMPLES.values():
        item = held.get(sample.name)
        state = f"loaded: {item.assets} assets in group {item.group_slug}" if item else "not loaded"
        print(f"{sample.name}\t{sample.title}\t({state})")
        print(f"\tattribution: {sample.attribution}")
    return 0


@command(
    "sample remove",
    help="delete a loaded sample, its group and tokens",
    arguments=[arg("name", choices=SAMPLE_NAMES, metavar="NAME")],
)
@on_federation
async def sample_remove(runtime: Runtime, federation: Federation, args: Namespace) -> int:
    sample = samples.get(args.name)
    removed = await samples.remove(runtime.assets, sample, by=accounts.CLI_ADMIN.describe())
    print(
        f"removed the {sample.name} sample: {removed} assets deleted (tombstones, "
        "delivered to followers by the server's worker), its group and tokens gone"
    )
    return 0
