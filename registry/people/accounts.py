"""Accounts: instance admins and commons groups, and the bearer tokens that act for them.

A token is shown once when it is made and stored only as its SHA-256 (tokens are 256-bit
random strings, so a slow password hash would add nothing). A token is scoped: an admin token
manages everything; a group token manages its own group's assets and tokens.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.core import db
from registry.core.errors import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable
from registry.core.schema import ADMIN, GROUP, groups, tokens
from registry.people import admin_log
from vocab.times import iso

TOKEN_PREFIX = "cr_"
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def now() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _SLUG_JUNK.sub("-", ascii_name.lower()).strip("-")[:64] or "group"


@dataclass(frozen=True)
class Principal:
    """Who a request acts for."""

    token_id: int | None
    role: str
    group_id: int | None = None
    group_slug: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def describe(self) -> str:
        if self.token_id is None:
            return "cli"
        who = "admin" if self.is_admin else f"group {self.group_slug}"
        return f"{who} (token #{self.token_id})"

    def may_manage_group(self, group_id: int | None) -> bool:
        return self.is_admin or (group_id is not None and group_id == self.group_id)


CLI_ADMIN = Principal(token_id=None, role=ADMIN)


@dataclass(frozen=True)
class Group:
    id: int
    slug: str
    name: str
    created_at: datetime
    suspended_at: datetime | None

    def to_json(self) -> dict:
        return {
            "slug": self.slug,
            "name": self.name,
            "created": iso(self.created_at),
            "suspended": self.suspended_at is not None,
        }


@dataclass(frozen=True)
class TokenInfo:
    id: int
    prefix: str
    role: str
    group_slug: str | None
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "prefix": self.prefix,
            "role": self.role,
            "group": self.group_slug,
            "label": self.label,
            "created": iso(self.created_at),
            "last_used": iso(self.last_used_at),
            "revoked": iso(self.revoked_at),
        }


def _group(row) -> Group:  # type: ignore[no-untyped-def]
    return Group(row.id, row.slug, row.name, row.created_at, row.suspended_at)


async def _new_token(
    conn: AsyncConnection, role: str, group_id: int | None, label: str
) -> tuple[int, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    result = await conn.execute(
        insert(tokens)
        .values(
            token_hash=hash_token(token),
            prefix=token[:10],
            role=role,
            group_id=group_id,
            label=label[:200],
            created_at=now(),
        )
        .returning(tokens.c.id)
    )
    return result.scalar_one(), token


async def create_admin_token(engine: AsyncEngine, label: str = "admin") -> tuple[int, str]:
    async with db.write(engine) as conn:
        return await _new_token(conn, ADMIN, None, label)


async def create_group(
    engine: AsyncEngine, name: str, slug: str | None = None
) -> tuple[Group, str]:
    """Create a commons group and its first token; returns the group and the token."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise Unprocessable(
            "the group name must be 1 to 200 characters",
            errors=[{"field": "name", "message": "1 to 200 characters"}],
        )
    slug = slugify(slug or name)
    try:
        async with db.write(engine) as conn:
            created = now()
            result = await conn.execute(
                insert(groups)
                .values(slug=slug, name=name, created_at=created)
                .returning(groups.c.id)
            )
            group_id = result.scalar_one()
            _, token = await _new_token(conn, GROUP, group_id, f"first token of {slug}")
    except IntegrityError:
        raise Conflict(f"a group with the slug {slug!r} already exists") from None
    return Group(group_id, slug, name, created, None), token


async def ensure_group(conn: AsyncConnection, name: str, slug: str) -> int:
    """The id of the group with this slug, creating it (without a token) when absent."""
    found = (await conn.execute(select(groups.c.id).where(groups.c.slug == slug))).scalar()
    if found is not None:
        return found
    result = await conn.execute(
        insert(groups).values(slug=slug, name=name, created_at=now()).returning(groups.c.id)
    )
    return result.scalar_one()


async def list_groups(engine: AsyncEngine) -> list[Group]:
    async with db.read(engine) as conn:
        rows = await conn.execute(select(groups).order_by(groups.c.slug))
        return [_group(row) for row in rows]


async def get_group(engine: AsyncEngine, slug: str) -> Group:
    async with db.read(engine) as conn:
        row = (await conn.execute(select(groups).where(groups.c.slug == slug))).first()
    if row is None:
        raise NotFound(f"there is no group {slug!r}")
    return _group(row)


async def set_group_suspended(
    engine: AsyncEngine, slug: str, suspended: bool, *, reason: str | None = None, by: str
) -> Group:
    """Suspend a group (its tokens stop working) or lift the suspension; logged as `by`.
    A group that moved to another node stays suspended: its catalog lives there now."""
    async with db.write(engine) as conn:
        if not suspended:
            moved = (
                await conn.execute(select(groups.c.moved_to).where(groups.c.slug == slug))
            ).scalar()
            if moved:
                raise Conflict(
                    f"the group {slug!r} moved to {moved}; it stays suspended here, since "
                    "its catalog and its followers are there now"
                )
        result = await conn.execute(
            update(groups)
            .where(groups.c.slug == slug)
            .values(
                suspended_at=now() if suspended else None,
                suspended_reason=reason if suspended else None,
            )
            .returning(*groups.c)
        )
        row = result.first()
        if row is None:
            raise NotFound(f"there is no group {slug!r}")
        action = "group.suspend" if suspended else "group.unsuspend"
        await admin_log.record(conn, by, action, slug, (reason or "") if suspended else "")
    return _group(row)


async def authenticate(engine: AsyncEngine, token: str) -> Principal:
    """The principal a bearer token acts for; Unauthorized when it is unknown or revoked."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise Unauthorized("the bearer token is not one this registry issued")
    query = (
        select(
            tokens.c.id,
            tokens.c.role,
            tokens.c.group_id,
            tokens.c.revoked_at,
            groups.c.slug,
            groups.c.suspended_at,
        )
        .select_from(tokens.outerjoin(groups, groups.c.id == tokens.c.group_id))
        .where(tokens.c.token_hash == hash_token(token))
    )
    async with db.read(engine) as conn:
        row = (await conn.execute(query)).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("the bearer token is unknown or has been revoked")
    if row.suspended_at is not None:
        raise Forbidden(f"the group {row.slug!r} is suspended")
    return Principal(token_id=row.id, role=row.role, group_id=row.group_id, group_slug=row.slug)


async def touch_token(engine: AsyncEngine, token_id: int) -> None:
    async with db.write(engine) as conn:
        await conn.execute(update(tokens).where(tokens.c.id == token_id).values(last_used_at=now()))


def _token_query():  # type: ignore[no-untyped-def]
    return (
        select(tokens, groups.c.slug.label("group_slug"))
        .select_from(tokens.outerjoin(groups, groups.c.id == tokens.c.group_id))
        .order_by(tokens.c.id)
    )


def _token_info(row) -> TokenInfo:  # type: ignore[no-untyped-def]
    return TokenInfo(
        row.id,
        row.prefix,
        row.role,
        row.group_slug,
        row.label,
        row.created_at,
        row.last_used_at,
        row.revoked_at,
    )


async def list_tokens(
    engine: AsyncEngine, principal: Principal, group_slug: str | None = None
) -> list[TokenInfo]:
    query = _token_query()
    if not principal.is_admin:
        query = query.where(tokens.c.group_id == principal.group_id)
    elif group_slug is not None:
        query = query.where(groups.c.slug == group_slug)
    async with db.read(engine) as conn:
        return [_token_info(row) for row in await conn.execute(query)]


async def issue_token(
    engine: AsyncEngine,
    principal: Principal,
    *,
    group_slug: str | None,
    admin: bool = False,
    label: str = "",
) -> tuple[TokenInfo, str]:
    """A new token: for the caller's own group, or (admins only) any group or a new admin."""
    if admin and not principal.is_admin:
        raise Forbidden("only an admin may create admin tokens")
    async with db.write(engine) as conn:
        group_id = None
        if not admin:
            slug = group_slug or principal.group_slug
            if slug is None:
                raise Unprocessable(
                    "say which group the token is for",
                    errors=[{"field": "group", "message": "required for admins"}],
                )
            group_id = (
                await conn.execute(select(groups.c.id).where(groups.c.slug == slug))
            ).scalar()
            if group_id is None:
                raise NotFound(f"there is no group {slug!r}")
            if not principal.may_manage_group(group_id):
                raise Forbidden("a group token may only create tokens for its own group")
        token_id, token = await _new_token(conn, ADMIN if admin else GROUP, group_id, label)
        row = (await conn.execute(_token_query().where(tokens.c.id == token_id))).one()
    return _token_info(row), token


async def revoke_token(engine: AsyncEngine, principal: Principal, token_id: int) -> TokenInfo:
    """Revoke a token (admins: any; a group: its own); logged, once."""
    async with db.write(engine) as conn:
        row = (await conn.execute(_token_query().where(tokens.c.id == token_id))).first()
        if row is None or not (principal.is_admin or row.group_id == principal.group_id):
            raise NotFound(f"there is no token #{token_id} you may manage")
        if row.revoked_at is None:
            await conn.execute(
                update(tokens).where(tokens.c.id == token_id).values(revoked_at=now())
            )
            row = (await conn.execute(_token_query().where(tokens.c.id == token_id))).one()
            info = _token_info(row)
            owner = f"group {info.group_slug}" if info.group_slug else info.role
            await admin_log.record(
                conn, principal.describe(), "token.revoke", f"token #{token_id}", f"{owner} token"
            )
    return _token_info(row)


async def has_admin_token(engine: AsyncEngine) -> bool:
    async with db.read(engine) as conn:
        query = select(tokens.c.id).where(tokens.c.role == ADMIN, tokens.c.revoked_at.is_(None))
        return (await conn.execute(query.limit(1))).first() is not None
