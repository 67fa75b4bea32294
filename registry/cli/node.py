"""Running the node: init, migrate, serve, worker, doctor, backup and restore, configuration."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from registry import __version__
from registry.cli.shared import SAMPLE_NAMES, load_sample, on_federation, where, with_engine
from registry.cli.table import arg, command, command_group
from registry.config import CONFIG_ENV, Settings, example_toml
from registry.core import backup as db_backup
from registry.core import migrate
from registry.core.node_keys import ensure_node_keys
from registry.fediverse.federation import Federation
from registry.ops import collector
from registry.people import accounts
from registry.runtime import Runtime

SAMPLE = arg(
    "--sample",
    nargs="?",
    const="fablabs",
    choices=SAMPLE_NAMES,
    metavar="NAME",
    help="also load a bundled sample data set (default: fablabs), removable later",
)


@command("init", help="create the database, the node's keys and an admin token", arguments=[SAMPLE])
def init(settings: Settings, args: argparse.Namespace) -> int:
    Path(settings.node.data_dir).mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)

    async def work(engine: AsyncEngine) -> int:
        created_keys = await ensure_node_keys(engine)
        print(f"database ready at revision {migrate.head_revision()} ({where(settings)})")
        print("node keys created" if created_keys else "node keys already present (kept)")
        if await accounts.has_admin_token(engine):
            print(
                "an admin token already exists; make another with "
                "`commons-registry token create --admin`"
            )
        else:
            _, token = await accounts.create_admin_token(engine, "created by init")
            print(f"admin token (shown once, keep it safe): {token}")
        if args.sample:
            return await load_sample(settings, engine, args.sample)
        return 0

    return with_engine(settings, work, check=False)


@command("migrate", help="bring the database schema up to date")
def migrate_schema(settings: Settings, args: argparse.Namespace) -> int:
    migrate.upgrade(settings.database_url)
    print(f"database at revision {migrate.head_revision()}")
    return 0


@command(
    "serve",
    help="run the web server",
    arguments=[arg("--host"), arg("--port", type=int), arg("--workers", type=int)],
)
def serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    host = args.host or settings.server.host
    port = args.port or settings.server.port
    workers = args.workers or settings.server.workers

    async def check(engine: AsyncEngine) -> int:
        return 0

    try:
        with_engine(settings, check)
    except migrate.SchemaBehind as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if workers > 1 and settings.database_url.startswith("sqlite"):
        print("error: server.workers > 1 needs PostgreSQL (SQLite has one writer)", file=sys.stderr)
        return 2
    print(
        f"Commons registry {__version__} listening on http://{host}:{port} "
        f"(public URL {settings.base_url}; database {where(settings)})",
        flush=True,
    )
    if args.config:
        os.environ[CONFIG_ENV] = str(Path(args.config).resolve())
    uvicorn.run(
        "registry.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.server.log_level,
        # X-Forwarded-For/-Proto only from the proxies named in the configuration.
        proxy_headers=bool(settings.network.trusted_proxies),
        forwarded_allow_ips=",".join(settings.network.trusted_proxies) or None,
        server_header=False,
        **_log_options(settings),
    )
    return 0


def _log_options(settings: Settings) -> dict[str, Any]:
    if settings.server.log_format != "json":
        return {}
    from registry.ops.requestlog import uvicorn_log_config

    return {"log_config": uvicorn_log_config(settings.server.log_level), "access_log": False}


@command("doctor", help="check configuration, database, keys, the public URL, clocks and partners")
def doctor(settings: Settings, args: argparse.Namespace) -> int:
    from registry.ops import doctor

    return doctor.run(settings)


@command("worker", help="run the inbox, delivery and sync workers (no web server)")
@on_federation
async def worker(runtime: Runtime, federation: Federation, args: argparse.Namespace) -> int:
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    federation.start()
    collector.settle_after_start()
    print(
        f"worker {federation.delivery.worker_id} running (inbox and deliveries); stop with Ctrl-C",
        flush=True,
    )
    await stop.wait()
    return 0


@command(
    "backup",
    help="copy the database (SQLite: online, consistent)",
    arguments=[arg("path", help="the backup file to write")],
)
def backup(settings: Settings, args: argparse.Namespace) -> int:
    return _backup_step(lambda: db_backup.backup(settings, Path(args.path)))


@command(
    "restore",
    help="replace the database with a backup (SQLite)",
    arguments=[
        arg("path", help="a file made by `commons-registry backup`"),
        arg("--force", action="store_true", help="restore even if the database seems in use"),
    ],
)
def restore(settings: Settings, args: argparse.Namespace) -> int:
    return _backup_step(lambda: db_backup.restore(settings, Path(args.path), force=args.force))


def _backup_step(step: Callable[[], object]) -> int:
    try:
        print(step())
    except db_backup.BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


command_group("config", help="show or check configuration")


@command("config example", help="print a documented example configuration", needs_settings=False)
def config_example(settings: None, args: argparse.Namespace) -> int:
    sys.stdout.write(example_toml())
    return 0


@command("config check", help="validate the configuration")
def config_check(settings: Settings, args: argparse.Namespace) -> int:
    print(f"configuration is valid; base URL {settings.base_url}, database {where(settings)}")
    return 0
