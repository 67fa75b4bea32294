"""The fediverse: following and followers, partner nodes and their sync, domain blocks."""

from __future__ import annotations

import sys
from argparse import Namespace

from sqlalchemy.ext.asyncio import AsyncEngine

from federation import follows
from registry.cli.shared import on_engine, on_federation
from registry.cli.table import arg, command, command_group
from registry.core import db
from registry.fediverse import blocks as domain_blocks
from registry.fediverse import following, partners, sync
from registry.fediverse.federation import Federation
from registry.ops import collector
from registry.people import accounts
from registry.runtime import Runtime
from vocab.times import iso


@command(
    "follow",
    help="follow another node or fediverse account",
    arguments=[arg("target", help="@user@host, user@host, an actor URL or a node's URL")],
)
@on_federation
async def follow(runtime: Runtime, federation: Federation, args: Namespace) -> int:
    actor = await following.follow(federation, args.target)
    print(
        f"following {actor.iri} requested; it is delivered by the server's worker "
        "(or `commons-registry worker`) and becomes active when they accept"
    )
    return 0


@command("unfollow", help="stop following", arguments=[arg("target")])
@on_federation
async def unfollow(runtime: Runtime, federation: Federation, args: Namespace) -> int:
    print(f"no longer following {await following.unfollow(federation, args.target)}")
    return 0


@command("following", help="list whom this node follows")
@on_engine
async def following_list(engine: AsyncEngine, args: Namespace) -> int:
    async with db.read(engine) as conn:
        for row in await follows.list_following(conn):
            print(f"{row.actor}\t{row.state}\tsince {iso(row.created_at)}")
    return 0


# `followers` alone lists, as `followers list` does without a --state.
@command(
    "followers list",
    help="list followers",
    arguments=[arg("--state", choices=["pending", "accepted", "rejected"])],
)
@command("followers", help="list and manage followers", defaults={"state": None})
@on_federation
async def followers_list(runtime: Runtime, federation: Federation, args: Namespace) -> int:
    for row in await following.followers(federation, args.state):
        print(f"{row.actor}\t{row.state}\tsince {iso(row.created_at)}")
    return 0


@on_federation
async def decide(runtime: Runtime, federation: Federation, args: Namespace) -> int:
    await following.decide(federation, args.actor, args.decision)
    print(f"{args.actor}: {args.decision} done")
    return 0


for _decision, _text in (
    ("approve", "accept a pending follow request"),
    ("reject", "refuse a follow request"),
    ("remove", "remove a follower"),
):
    command(
        f"followers {_decision}",
        help=_text,
        arguments=[arg("actor", help="the follower's actor IRI")],
        defaults={"decision": _decision},
    )(decide)


command_group("partner", help="partner nodes whose catalogs are mirrored")


@command(
    "partner add",
    help="resolve, follow and mirror a partner node",
    arguments=[arg("target", help="the node's URL, its actor URL or @handle@host")],
)
@on_federation
async def partner_add(runtime: Runtime, federation: Federation, args: Namespace) -> int:
    partner = await partners.add(federation, args.target)
    print(
        f"partner {partner.host} added ({partner.actor}); following requested. Its "
        "catalog is mirrored once it accepts (or run `commons-registry sync`)."
    )
    return 0


@command("partner remove", help="stop mirroring a partner", arguments=[arg("target")])
@on_federation
async def partner_remove(runtime: Runtime, federation: Federation, args: Namespace) -> int:
    print(f"partner {await partners.remove(federation, args.target)} removed")
    return 0


@command("partner list", help="partners and their sync state")
@on_federation
async def partner_list(runtime: Runtime, federation: Federation, args: Namespace) -> int:
    for p in await partners.list_partners(runtime.engine):
        state = p.last_sync_error or ("synced" if p.last_sync_at else "not synced yet")
        print(
            f"{p.host}\t{p.follow_state or '-'}\tcheckpoint {p.checkpoint_seq}\t"
            f"last sync {iso(p.last_sync_at) or 'never'}\t{state}"
        )
    return 0


@command(
    "sync",
    help="pull what pushes missed from partners now",
    arguments=[
        arg("partner", nargs="?", help="one partner (host or URL); all if omitted"),
        arg(
            "--force",
            action="store_true",
            help="apply a full comparison even past the mass-deletion guard",
        ),
    ],
)
@on_federation
async def sync_partners(runtime: Runtime, federation: Federation, args: Namespace) -> int:
    chosen = (
        [await partners.find(runtime.engine, args.partner)]
        if args.partner
        else await partners.list_partners(runtime.engine)
    )
    if not chosen:
        print("no partners yet: add one with `commons-registry partner add URL`")
        return 0

    def show(report: sync.SyncReport) -> None:
        print(
            f"\r{report.partner}: page {report.pages}, {report.created} created, "
            f"{report.updated} updated, {report.deleted} deleted",
            end="",
            file=sys.stderr,
            flush=True,
        )

    failed = 0
    pool = sync.check_pool(federation)  # one set of worker processes for every partner
    collector.settle_after_start()  # a backfill runs for minutes
    try:
        for partner in chosen:
            try:
                report = await sync.sync_partner(
                    federation, partner, force=args.force, progress=show, pool=pool
                )
                print(file=sys.stderr)
                print(report.line())
            except sync.SyncError as exc:
                failed += 1
                await partners.record_failure(federation.engine, partner.id, str(exc))
                print(f"\n{partner.host}: sync failed: {exc}", file=sys.stderr)
    finally:
        pool.close()
    return 1 if failed else 0


@command(
    "block",
    help="block a domain (and its subdomains), purge its data",
    arguments=[arg("domain"), arg("--reason", default="")],
)
@on_engine
async def block(engine: AsyncEngine, args: Namespace) -> int:
    by = accounts.CLI_ADMIN.describe()
    done = await domain_blocks.block_domain(engine, args.domain, reason=args.reason, by=by)
    print(f"{done.domain} blocked (and its subdomains); what it held was purged")
    return 0


@command("unblock", help="lift a domain block", arguments=[arg("domain")])
@on_engine
async def unblock(engine: AsyncEngine, args: Namespace) -> int:
    if not await domain_blocks.unblock_domain(
        engine, args.domain, by=accounts.CLI_ADMIN.describe()
    ):
        print(f"error: {args.domain} is not blocked", file=sys.stderr)
        return 1
    print(f"{domain_blocks.normalize_domain(args.domain)} unblocked")
    return 0


@command("blocks", help="list blocked domains")
@on_engine
async def list_blocks(engine: AsyncEngine, args: Namespace) -> int:
    for entry in await domain_blocks.list_domain_blocks(engine):
        print(f"{entry.domain}\t{iso(entry.created_at)}\t{entry.created_by}\t{entry.reason}")
    return 0
