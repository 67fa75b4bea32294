"""People: commons groups, their bearer tokens, and members who sign in to the web interface."""

from __future__ import annotations

from argparse import Namespace

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog import group_settings
from registry.cli.shared import on_engine, read_password, with_engine
from registry.cli.table import arg, command, command_group, one_of
from registry.config import Settings
from registry.people import accounts, members

command_group("group", help="manage commons groups")


@command(
    "group create",
    help="create a group and print its first token",
    arguments=[arg("name"), arg("--slug")],
)
@on_engine
async def group_create(engine: AsyncEngine, args: Namespace) -> int:
    group, token = await accounts.create_group(engine, args.name, args.slug)
    print(f"group {group.slug} created")
    print(f"token (shown once, give it to the group): {token}")
    return 0


@command("group list", help="list groups")
@on_engine
async def group_list(engine: AsyncEngine, args: Namespace) -> int:
    for group in await accounts.list_groups(engine):
        state = " (suspended)" if group.suspended_at else ""
        print(f"{group.slug}\t{group.name}{state}")
    return 0


SUSPEND, RESUME = {"suspend": True}, {"suspend": False}


# Decorators apply bottom up: `suspend` is registered (and listed) before `unsuspend`.
@command("group unsuspend", help="lift a suspension", arguments=[arg("slug")], defaults=RESUME)
@command(
    "group suspend",
    help="suspend a group (its tokens stop working)",
    arguments=[arg("slug"), arg("--reason")],
    defaults=SUSPEND,
)
@on_engine
async def group_suspend(engine: AsyncEngine, args: Namespace) -> int:
    group = await accounts.set_group_suspended(
        engine,
        args.slug,
        args.suspend,
        reason=getattr(args, "reason", None),
        by=accounts.CLI_ADMIN.describe(),
    )
    print(f"group {group.slug} {'suspended' if group.suspended_at else 'active'}")
    return 0


@command(
    "group defaults",
    help="show or set a group's default visibility and licence",
    arguments=[
        arg("slug"),
        arg("--visibility", help="public, unlisted, partners or group"),
        arg("--license", help="an SPDX id; an empty value clears it"),
    ],
)
@on_engine
async def group_defaults(engine: AsyncEngine, args: Namespace) -> int:
    changes = {}
    if args.visibility is not None:
        changes["visibility"] = args.visibility
    if args.license is not None:
        changes["license"] = args.license or None  # "" clears it
    rules = await group_settings.set_defaults(engine, args.slug, **changes)
    print(
        f"group {args.slug}: new assets are {rules['default_visibility']}, "
        f"licence {rules['default_license'] or 'not set'}"
    )
    return 0


command_group("token", help="manage bearer tokens")


@command("token list", help="list tokens (hashes are never shown)", arguments=[arg("--group")])
@on_engine
async def token_list(engine: AsyncEngine, args: Namespace) -> int:
    for info in await accounts.list_tokens(engine, accounts.CLI_ADMIN, args.group):
        state = "revoked" if info.revoked_at else "active"
        print(
            f"#{info.id}\t{info.prefix}…\t{info.role}\t{info.group_slug or '-'}\t"
            f"{state}\t{info.label}"
        )
    return 0


@command(
    "token create",
    help="create a token",
    arguments=[one_of(arg("--group"), arg("--admin", action="store_true")), arg("--label")],
)
@on_engine
async def token_create(engine: AsyncEngine, args: Namespace) -> int:
    info, token = await accounts.issue_token(
        engine, accounts.CLI_ADMIN, group_slug=args.group, admin=args.admin, label=args.label or ""
    )
    print(f"token #{info.id} ({info.role}) (shown once): {token}")
    return 0


@command("token revoke", help="revoke a token", arguments=[arg("id", type=int)])
@on_engine
async def token_revoke(engine: AsyncEngine, args: Namespace) -> int:
    info = await accounts.revoke_token(engine, accounts.CLI_ADMIN, args.id)
    print(f"token #{info.id} revoked")
    return 0


command_group("member", help="people who sign in to the web interface")


@command(
    "member create",
    help="create a member of a group, or a web admin",
    arguments=[
        arg("username"),
        one_of(
            arg("--group", help="slug of the member's group"),
            arg("--admin", action="store_true", help="an admin of this node"),
        ),
        arg("--name", help="display name"),
        arg("--password-stdin", action="store_true", help="read the password from standard input"),
    ],
)
def member_create(settings: Settings, args: Namespace) -> int:
    # The password is asked for before the database is opened.
    password = read_password(args.password_stdin)

    async def work(engine: AsyncEngine) -> int:
        member = await members.create_member(
            engine,
            args.username,
            password,
            group_slug=args.group,
            admin=args.admin,
            display_name=args.name or "",
        )
        print(f"member {member.username} created ({member.group_slug or 'admin'})")
        return 0

    return with_engine(settings, work)


@command("member list", help="list members")
@on_engine
async def member_list(engine: AsyncEngine, args: Namespace) -> int:
    for m in await members.list_members(engine):
        state = " (disabled)" if m.disabled_at else ""
        print(f"{m.username}\t{m.group_slug or 'admin'}\t{m.display_name}{state}")
    return 0


@command("member disable", help="stop a member signing in", arguments=[arg("username")])
@on_engine
async def member_disable(engine: AsyncEngine, args: Namespace) -> int:
    member = await members.disable_member(engine, args.username)
    print(f"member {member.username} disabled; their sessions are ended")
    return 0
