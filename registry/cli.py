"""The `commons-registry` command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

import vocab
from registry import __version__, accounts, db, group_moves_cli, logs, migrate
from registry.config import CONFIG_ENV, ConfigError, Settings, example_toml, load_settings
from registry.errors import Problem
from registry.fediverse.service import Federation
from registry.samples import SAMPLES
from registry.services import Services

SAMPLE_NAMES = sorted(SAMPLES)


class Progress:
    """A one-line progress bar on a terminal; a line every 10% otherwise (logs, CI)."""

    def __init__(self, label: str, total: int | None, stream: Any = sys.stderr) -> None:
        self.label, self.total, self.stream = label, total, stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.started = time.monotonic()
        self.last_decile = -1

    def __call__(self, done: int) -> None:
        if not self.total:
            return
        fraction = min(1.0, done / self.total)
        if self.tty:
            bar = "#" * int(fraction * 30)
            self.stream.write(f"\r{self.label} [{bar:<30}] {done}/{self.total}")
            if done >= self.total:
                self.stream.write("\n")
            self.stream.flush()
        elif int(fraction * 10) > self.last_decile:
            self.last_decile = int(fraction * 10)
            self.stream.write(f"{self.label}: {done}/{self.total} ({fraction:.0%})\n")


def _engine(settings: Settings) -> AsyncEngine:
    return db.create_engine(settings.database_url, pool_size=settings.database.pool_size)


async def _with_engine(
    settings: Settings, work: Callable[[AsyncEngine], Awaitable[int]], check: bool = True
) -> int:
    engine = _engine(settings)
    try:
        if check:
            await migrate.check_schema(engine)
        return await work(engine)
    finally:
        await engine.dispose()


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    from registry.node import ensure_node_keys

    Path(settings.node.data_dir).mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)

    async def work(engine: AsyncEngine) -> int:
        created_keys = await ensure_node_keys(engine)
        print(f"database ready at revision {migrate.head_revision()} ({_where(settings)})")
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
            return await _load_sample(settings, engine, args.sample)
        return 0

    return asyncio.run(_with_engine(settings, work, check=False))


async def _load_sample(settings: Settings, engine: AsyncEngine, name: str) -> int:
    from registry import samples
    from registry.assets import AssetService

    sample = samples.get(name)
    started = time.monotonic()
    total = sum(1 for _ in _sample_rows(sample))
    report = await samples.load(
        AssetService(engine, settings), sample, Progress(f"loading the {name} sample", total)
    )
    for line in report.lines():
        print(line)
    print(
        f"sample {name!r} loaded as group {sample.group_slug} in {time.monotonic() - started:.1f} s"
    )
    print(f"attribution: {sample.attribution} (licence text: {sample.licence_path.name})")
    print(f"remove it, with its group, by `commons-registry sample remove {name}`")
    return 0


def _sample_rows(sample: Any) -> Any:
    from registry.importers import adapter_for

    return adapter_for(sample.path, sample.format).rows(sample.path)


def cmd_sample(settings: Settings, args: argparse.Namespace) -> int:
    from registry import samples

    if args.sample_command == "list":

        async def show(engine: AsyncEngine) -> int:
            held = {item.sample.name: item for item in await samples.loaded(engine)}
            for sample in samples.SAMPLES.values():
                item = held.get(sample.name)
                state = (
                    f"loaded: {item.assets} assets in group {item.group_slug}"
                    if item
                    else "not loaded"
                )
                print(f"{sample.name}\t{sample.title}\t({state})")
                print(f"\tattribution: {sample.attribution}")
            return 0

        return asyncio.run(_with_engine(settings, show))

    sample = samples.get(args.name)

    async def work(services: Services, federation: Federation) -> int:
        removed = await samples.remove(services.assets, sample, by=accounts.CLI_ADMIN.describe())
        print(
            f"removed the {sample.name} sample: {removed} assets deleted (tombstones, "
            "delivered to followers by the server's worker), its group and tokens gone"
        )
        return 0

    return _federation_command(settings, work)


def _where(settings: Settings) -> str:
    url = settings.database_url
    return url.split("@")[-1] if "@" in url else url


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    migrate.upgrade(settings.database_url)
    print(f"database at revision {migrate.head_revision()}")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    host = args.host or settings.server.host
    port = args.port or settings.server.port
    workers = args.workers or settings.server.workers

    async def check(engine: AsyncEngine) -> int:
        return 0

    try:
        asyncio.run(_with_engine(settings, check))
    except migrate.SchemaBehind as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if workers > 1 and settings.database_url.startswith("sqlite"):
        print("error: server.workers > 1 needs PostgreSQL (SQLite has one writer)", file=sys.stderr)
        return 2
    print(
        f"Commons registry {__version__} listening on http://{host}:{port} "
        f"(public URL {settings.base_url}; database {_where(settings)})",
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


def cmd_group(settings: Settings, args: argparse.Namespace) -> int:
    if args.group_command in group_moves_cli.COMMANDS:
        return group_moves_cli.run(settings, args, _with_engine_sync, _federation_command)

    async def work(engine: AsyncEngine) -> int:
        if args.group_command == "create":
            group, token = await accounts.create_group(engine, args.name, args.slug)
            print(f"group {group.slug} created")
            print(f"token (shown once, give it to the group): {token}")
        elif args.group_command == "list":
            for group in await accounts.list_groups(engine):
                state = " (suspended)" if group.suspended_at else ""
                print(f"{group.slug}\t{group.name}{state}")
        elif args.group_command in ("suspend", "unsuspend"):
            from registry import moderation

            group = await moderation.set_group_suspended(
                engine,
                args.slug,
                args.group_command == "suspend",
                reason=getattr(args, "reason", None),
                by=accounts.CLI_ADMIN.describe(),
            )
            print(f"group {group.slug} {'suspended' if group.suspended_at else 'active'}")
        return 0

    return asyncio.run(_with_engine(settings, work))


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    async def work(engine: AsyncEngine) -> int:
        if args.token_command == "list":
            for info in await accounts.list_tokens(engine, accounts.CLI_ADMIN, args.group):
                state = "revoked" if info.revoked_at else "active"
                print(
                    f"#{info.id}\t{info.prefix}…\t{info.role}\t{info.group_slug or '-'}\t"
                    f"{state}\t{info.label}"
                )
        elif args.token_command == "create":
            info, token = await accounts.issue_token(
                engine,
                accounts.CLI_ADMIN,
                group_slug=args.group,
                admin=args.admin,
                label=args.label or "",
            )
            print(f"token #{info.id} ({info.role}) (shown once): {token}")
        elif args.token_command == "revoke":
            from registry import moderation

            info = await moderation.revoke_token(engine, accounts.CLI_ADMIN, args.id)
            print(f"token #{info.id} revoked")
        return 0

    return asyncio.run(_with_engine(settings, work))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    password = getpass.getpass("password: ")
    if getpass.getpass("the same password again: ") != password:
        raise SystemExit("the passwords differ; nothing was changed")
    return password


def cmd_member(settings: Settings, args: argparse.Namespace) -> int:
    """People who sign in to the web interface."""
    from registry import members

    password = ""
    if args.member_command == "create":
        password = _read_password(args.password_stdin)

    async def work(engine: AsyncEngine) -> int:
        if args.member_command == "create":
            member = await members.create_member(
                engine,
                args.username,
                password,
                group_slug=args.group,
                admin=args.admin,
                display_name=args.name or "",
            )
            print(f"member {member.username} created ({member.group_slug or 'admin'})")
        elif args.member_command == "list":
            for m in await members.list_members(engine):
                state = " (disabled)" if m.disabled_at else ""
                print(f"{m.username}\t{m.group_slug or 'admin'}\t{m.display_name}{state}")
        elif args.member_command == "disable":
            member = await members.disable_member(engine, args.username)
            print(f"member {member.username} disabled; their sessions are ended")
        return 0

    return asyncio.run(_with_engine(settings, work))


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from registry.assets import AssetService
    from registry.importers import adapter_for, run_import

    if args.sample:
        return asyncio.run(
            _with_engine(settings, lambda engine: _load_sample(settings, engine, args.sample))
        )
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

    return asyncio.run(_with_engine(settings, work))


def _with_engine_sync(settings: Settings, work: Callable[[AsyncEngine], Awaitable[int]]) -> int:
    return asyncio.run(_with_engine(settings, work))


def cmd_key(settings: Settings, args: argparse.Namespace) -> int:
    return group_moves_cli.cmd_key(settings, args, _with_engine_sync)


def _federation_command(
    settings: Settings, work: Callable[[Services, Federation], Awaitable[int]]
) -> int:
    async def run(engine: AsyncEngine) -> int:
        services = Services.build(settings, engine)
        federation = await services.start_federation(run_workers=False)
        try:
            return await work(services, federation)
        finally:
            await services.stop_federation()

    return asyncio.run(_with_engine(settings, run))


def cmd_follow(settings: Settings, args: argparse.Namespace) -> int:
    from registry.fediverse import following

    async def work(services: Services, federation: Federation) -> int:
        actor = await following.follow(federation, args.target)
        print(
            f"following {actor.iri} requested; it is delivered by the server's worker "
            "(or `commons-registry worker`) and becomes active when they accept"
        )
        return 0

    return _federation_command(settings, work)


def cmd_unfollow(settings: Settings, args: argparse.Namespace) -> int:
    from registry.fediverse import following

    async def work(services: Services, federation: Federation) -> int:
        actor_iri = await following.unfollow(federation, args.target)
        print(f"no longer following {actor_iri}")
        return 0

    return _federation_command(settings, work)


def cmd_following(settings: Settings, args: argparse.Namespace) -> int:
    from federation import follows

    async def work(engine: AsyncEngine) -> int:
        async with db.read(engine) as conn:
            for row in await follows.list_following(conn):
                print(f"{row.actor}\t{row.state}\tsince {accounts.iso(row.created_at)}")
        return 0

    return asyncio.run(_with_engine(settings, work))


def cmd_followers(settings: Settings, args: argparse.Namespace) -> int:
    from registry.fediverse import following

    async def work(services: Services, federation: Federation) -> int:
        action = args.followers_command or "list"
        if action == "list":
            for row in await following.followers(federation, args.state):
                print(f"{row.actor}\t{row.state}\tsince {accounts.iso(row.created_at)}")
        else:
            await following.decide(federation, args.actor, action)
            print(f"{args.actor}: {action} done")
        return 0

    return _federation_command(settings, work)


def cmd_partner(settings: Settings, args: argparse.Namespace) -> int:
    from registry import partners

    async def work(services: Services, federation: Federation) -> int:
        if args.partner_command == "add":
            partner = await partners.add(federation, args.target)
            print(
                f"partner {partner.host} added ({partner.actor}); following requested. Its "
                "catalog is mirrored once it accepts (or run `commons-registry sync`)."
            )
        elif args.partner_command == "remove":
            print(f"partner {await partners.remove(federation, args.target)} removed")
        else:
            for p in await partners.list_partners(services.engine):
                state = p.last_sync_error or ("synced" if p.last_sync_at else "not synced yet")
                print(
                    f"{p.host}\t{p.follow_state or '-'}\tcheckpoint {p.checkpoint_seq}\t"
                    f"last sync {accounts.iso(p.last_sync_at) or 'never'}\t{state}"
                )
        return 0

    return _federation_command(settings, work)


def cmd_sync(settings: Settings, args: argparse.Namespace) -> int:
    from registry import partners, sync

    async def work(services: Services, federation: Federation) -> int:
        chosen = (
            [await partners.find(services.engine, args.partner)]
            if args.partner
            else await partners.list_partners(services.engine)
        )
        if not chosen:
            print("no partners yet: add one with `commons-registry partner add URL`")
            return 0
        failed = 0
        for partner in chosen:

            def show(report: sync.SyncReport) -> None:
                print(
                    f"\r{report.partner}: page {report.pages}, {report.created} created, "
                    f"{report.updated} updated, {report.deleted} deleted",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )

            try:
                report = await sync.sync_partner(
                    federation, partner, force=args.force, progress=show
                )
                print(file=sys.stderr)
                print(report.line())
            except sync.SyncError as exc:
                failed += 1
                await sync.record_failure(federation, partner, str(exc))  # unreachable since
                print(f"\n{partner.host}: sync failed: {exc}", file=sys.stderr)
        return 1 if failed else 0

    return _federation_command(settings, work)


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    from registry.ops import doctor

    return doctor.run(settings)


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    import signal

    async def work(services: Services, federation: Federation) -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        federation.start()
        print(
            f"worker {federation.delivery.worker_id} running (inbox and deliveries); "
            "stop with Ctrl-C",
            flush=True,
        )
        await stop.wait()
        return 0

    return _federation_command(settings, work)


def cmd_block(settings: Settings, args: argparse.Namespace) -> int:
    from registry import moderation

    by = accounts.CLI_ADMIN.describe()

    async def work(engine: AsyncEngine) -> int:
        if args.command == "block":
            block = await moderation.block_domain(engine, args.domain, reason=args.reason, by=by)
            print(f"{block.domain} blocked (and its subdomains); what it held was purged")
        elif args.command == "unblock":
            if not await moderation.unblock_domain(engine, args.domain, by=by):
                print(f"error: {args.domain} is not blocked", file=sys.stderr)
                return 1
            print(f"{moderation.normalize_domain(args.domain)} unblocked")
        else:
            for block in await moderation.list_domain_blocks(engine):
                print(
                    f"{block.domain}\t{accounts.iso(block.created_at)}\t{block.created_by}\t"
                    f"{block.reason}"
                )
        return 0

    return asyncio.run(_with_engine(settings, work))


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from registry import backup

    try:
        if args.command == "backup":
            print(backup.backup(settings, Path(args.path)))
        else:
            print(backup.restore(settings, Path(args.path), force=args.force))
    except backup.BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_config(settings: Settings | None, args: argparse.Namespace) -> int:
    if args.config_command == "example":
        sys.stdout.write(example_toml())
    else:
        assert settings is not None
        print(f"configuration is valid; base URL {settings.base_url}, database {_where(settings)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commons-registry", description="A federated registry of commons assets."
    )
    parser.add_argument("--config", help=f"TOML configuration file (or set {CONFIG_ENV})")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create the database, the node's keys and an admin token")
    init.add_argument(
        "--sample",
        nargs="?",
        const="fablabs",
        choices=SAMPLE_NAMES,
        metavar="NAME",
        help="also load a bundled sample data set (default: fablabs), removable later",
    )
    sub.add_parser("migrate", help="bring the database schema up to date")
    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)

    group = sub.add_parser("group", help="manage commons groups")
    gsub = group.add_subparsers(dest="group_command", required=True)
    create = gsub.add_parser("create", help="create a group and print its first token")
    create.add_argument("name")
    create.add_argument("--slug")
    gsub.add_parser("list", help="list groups")
    group_moves_cli.add_parsers(gsub, sub)  # export, import, moved, claim, copies; key
    suspend = gsub.add_parser("suspend", help="suspend a group (its tokens stop working)")
    suspend.add_argument("slug")
    suspend.add_argument("--reason")
    unsuspend = gsub.add_parser("unsuspend", help="lift a suspension")
    unsuspend.add_argument("slug")

    token = sub.add_parser("token", help="manage bearer tokens")
    tsub = token.add_subparsers(dest="token_command", required=True)
    tlist = tsub.add_parser("list", help="list tokens (hashes are never shown)")
    tlist.add_argument("--group")
    tcreate = tsub.add_parser("create", help="create a token")
    target = tcreate.add_mutually_exclusive_group(required=True)
    target.add_argument("--group")
    target.add_argument("--admin", action="store_true")
    tcreate.add_argument("--label")
    trevoke = tsub.add_parser("revoke", help="revoke a token")
    trevoke.add_argument("id", type=int)

    member = sub.add_parser("member", help="people who sign in to the web interface")
    msub = member.add_subparsers(dest="member_command", required=True)
    mcreate = msub.add_parser("create", help="create a member of a group, or a web admin")
    mcreate.add_argument("username")
    mscope = mcreate.add_mutually_exclusive_group(required=True)
    mscope.add_argument("--group", help="slug of the member's group")
    mscope.add_argument("--admin", action="store_true", help="an admin of this node")
    mcreate.add_argument("--name", help="display name")
    mcreate.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    msub.add_parser("list", help="list members")
    msub.add_parser("disable", help="stop a member signing in").add_argument("username")
    imp = sub.add_parser("import", help="import assets from a file (OKW JSON, CSV)")
    imp.add_argument("file", nargs="?")
    imp.add_argument(
        "--sample",
        choices=SAMPLE_NAMES,
        metavar="NAME",
        help=f"load a bundled sample data set instead ({', '.join(SAMPLE_NAMES)})",
    )
    imp.add_argument("--format", choices=["okw", "csv"])
    imp.add_argument("--mapping", help="column-mapping file for CSV (TOML or JSON)")
    imp.add_argument("--group", help="slug of the group that will own the assets")
    imp.add_argument("--encoding", help="text encoding of a CSV file (default UTF-8)")
    imp.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")

    sample_cmd = sub.add_parser("sample", help="bundled sample data sets (see also init --sample)")
    ssub = sample_cmd.add_subparsers(dest="sample_command", required=True)
    ssub.add_parser("list", help="the samples, their attribution and whether they are loaded")
    ssub.add_parser("remove", help="delete a loaded sample, its group and tokens").add_argument(
        "name", choices=SAMPLE_NAMES, metavar="NAME"
    )
    follow = sub.add_parser("follow", help="follow another node or fediverse account")
    follow.add_argument("target", help="@user@host, user@host, an actor URL or a node's URL")
    unfollow = sub.add_parser("unfollow", help="stop following")
    unfollow.add_argument("target")
    sub.add_parser("following", help="list whom this node follows")
    fol = sub.add_parser("followers", help="list and manage followers")
    fsub = fol.add_subparsers(dest="followers_command")
    flist = fsub.add_parser("list", help="list followers")
    flist.add_argument("--state", choices=["pending", "accepted", "rejected"])
    fol.set_defaults(state=None)
    for action, text in (
        ("approve", "accept a pending follow request"),
        ("reject", "refuse a follow request"),
        ("remove", "remove a follower"),
    ):
        fsub.add_parser(action, help=text).add_argument("actor", help="the follower's actor IRI")
    sub.add_parser(
        "doctor",
        help="check configuration, database, keys, the public URL, clocks and partners",
    )
    sub.add_parser("worker", help="run the inbox, delivery and sync workers (no web server)")
    partner = sub.add_parser("partner", help="partner nodes whose catalogs are mirrored")
    psub = partner.add_subparsers(dest="partner_command", required=True)
    psub.add_parser("add", help="resolve, follow and mirror a partner node").add_argument(
        "target", help="the node's URL, its actor URL or @handle@host"
    )
    psub.add_parser("remove", help="stop mirroring a partner").add_argument("target")
    psub.add_parser("list", help="partners and their sync state")
    sync_cmd = sub.add_parser("sync", help="pull what pushes missed from partners now")
    sync_cmd.add_argument("partner", nargs="?", help="one partner (host or URL); all if omitted")
    sync_cmd.add_argument(
        "--force",
        action="store_true",
        help="apply a full comparison even past the mass-deletion guard",
    )

    block = sub.add_parser("block", help="block a domain (and its subdomains), purge its data")
    block.add_argument("domain")
    block.add_argument("--reason", default="")
    sub.add_parser("unblock", help="lift a domain block").add_argument("domain")
    sub.add_parser("blocks", help="list blocked domains")
    backup_cmd = sub.add_parser("backup", help="copy the database (SQLite: online, consistent)")
    backup_cmd.add_argument("path", help="the backup file to write")
    restore_cmd = sub.add_parser("restore", help="replace the database with a backup (SQLite)")
    restore_cmd.add_argument("path", help="a file made by `commons-registry backup`")
    restore_cmd.add_argument(
        "--force", action="store_true", help="restore even if the database seems in use"
    )

    config = sub.add_parser("config", help="show or check configuration")
    csub = config.add_subparsers(dest="config_command", required=True)
    csub.add_parser("example", help="print a documented example configuration")
    csub.add_parser("check", help="validate the configuration")
    return parser


COMMANDS: dict[str, Callable[[Any, argparse.Namespace], int]] = {
    "init": cmd_init,
    "migrate": cmd_migrate,
    "serve": cmd_serve,
    "group": cmd_group,
    "token": cmd_token,
    "member": cmd_member,
    "import": cmd_import,
    "sample": cmd_sample,
    "config": cmd_config,
    "follow": cmd_follow,
    "unfollow": cmd_unfollow,
    "following": cmd_following,
    "followers": cmd_followers,
    "worker": cmd_worker,
    "doctor": cmd_doctor,
    "partner": cmd_partner,
    "sync": cmd_sync,
    "block": cmd_block,
    "unblock": cmd_block,
    "blocks": cmd_block,
    "backup": cmd_backup,
    "restore": cmd_backup,
    "key": cmd_key,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = None
    if not (args.command == "config" and args.config_command == "example"):
        try:
            settings = load_settings(args.config)
        except ConfigError as exc:
            print(f"configuration error: {exc}", file=sys.stderr)
            return 2
        logs.configure(settings.server.log_level, settings.server.log_format)
    try:
        return COMMANDS[args.command](settings, args)
    except migrate.SchemaBehind as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Problem as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
