"""People who sign in to the web interface, and their browser sessions.

A member is either an admin of the node or a member of one commons group. Passwords are
stored as argon2id hashes. A session cookie holds a random secret; the table keeps only its
SHA-256 (like bearer tokens: a 256-bit random value needs no slow hash), with the session's
CSRF secret and its expiry.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.core import db
from registry.core.errors import Conflict, NotFound, Unprocessable
from registry.core.schema import ADMIN, GROUP, groups, members, web_sessions
from registry.people.accounts import Principal, now
from vocab.times import as_utc

USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{1,63}")
MIN_PASSWORD = 10
_hasher = PasswordHasher()  # argon2id with the library's current recommended costs


@functools.cache
def _dummy_hash() -> str:
    """What an unknown username's password is verified against, so that both answers are
    equally slow. Made when first asked for (a web server asks as it starts: `warm`), not at
    import: every command and process of the node imports this module, and one argon2 hash
    is ~0.1 s of CPU."""
    return _hasher.hash(secrets.token_urlsafe(16))


def warm() -> None:
    """Make what the first sign-in would otherwise make, so that it is not the slow one."""
    _dummy_hash()


@dataclass(frozen=True)
class MemberPrincipal(Principal):
    """A signed-in member acting through the asset service, named in moderation logs."""

    username: str = ""

    def describe(self) -> str:
        who = "admin" if self.is_admin else f"group {self.group_slug}"
        return f"{who} member {self.username}"


@dataclass(frozen=True)
class Member:
    id: int
    username: str
    display_name: str
    role: str
    group_id: int | None
    group_slug: str | None
    group_name: str | None
    created_at: datetime
    last_login_at: datetime | None
    disabled_at: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def principal(self) -> MemberPrincipal:
        return MemberPrincipal(
            token_id=None,
            role=self.role,
            group_id=self.group_id,
            group_slug=self.group_slug,
            username=self.username,
        )


@dataclass(frozen=True)
class Session:
    member: Member
    csrf_secret: str
    expires_at: datetime


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _member_query():  # type: ignore[no-untyped-def]
    return select(
        members,
        groups.c.slug.label("group_slug"),
        groups.c.name.label("group_name"),
        groups.c.suspended_at.label("group_suspended_at"),
    ).select_from(members.outerjoin(groups, groups.c.id == members.c.group_id))


def _member(row) -> Member:  # type: ignore[no-untyped-def]
    return Member(
        row.id,
        row.username,
        row.display_name,
        row.role,
        row.group_id,
        row.group_slug,
        row.group_name,
        as_utc(row.created_at),
        as_utc(row.last_login_at) if row.last_login_at else None,
        as_utc(row.disabled_at) if row.disabled_at else None,
    )


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD or len(password) > 1024:
        raise Unprocessable(
            f"the password must be {MIN_PASSWORD} to 1024 characters",
            errors=[{"field": "password", "message": f"at least {MIN_PASSWORD} characters"}],
        )


async def create_member(
    engine: AsyncEngine,
    username: str,
    password: str,
    *,
    group_slug: str | None = None,
    admin: bool = False,
    display_name: str = "",
) -> Member:
    """A new member of a group (or a new admin); the password is stored hashed."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise Unprocessable(
            "a username is 2 to 64 characters: lower-case letters, digits, '.', '_' or '-'",
            errors=[{"field": "username", "message": "letters, digits, '.', '_' or '-'"}],
        )
    if admin == (group_slug is not None):
        raise Unprocessable("a member belongs either to one group or is an admin")
    check_new_password(password)
    password_hash = hash_password(password)
    try:
        async with db.write(engine) as conn:
            group_id = None
            if group_slug is not None:
                query = select(groups.c.id).where(groups.c.slug == group_slug)
                group_id = (await conn.execute(query)).scalar()
                if group_id is None:
                    raise NotFound(f"there is no group {group_slug!r}")
            result = await conn.execute(
                insert(members)
                .values(
                    username=username,
                    display_name=" ".join(display_name.split())[:200],
                    password_hash=password_hash,
                    role=ADMIN if admin else GROUP,
                    group_id=group_id,
                    created_at=now(),
                )
                .returning(members.c.id)
            )
            member_id = result.scalar_one()
            row = (await conn.execute(_member_query().where(members.c.id == member_id))).one()
    except IntegrityError:
        raise Conflict(f"there is already a member {username!r}") from None
    return _member(row)


async def list_members(engine: AsyncEngine) -> list[Member]:
    async with db.read(engine) as conn:
        rows = await conn.execute(_member_query().order_by(members.c.username))
        return [_member(row) for row in rows]


async def disable_member(engine: AsyncEngine, username: str) -> Member:
    """Stop a member from signing in, and end their sessions."""
    async with db.write(engine) as conn:
        row = (
            await conn.execute(_member_query().where(members.c.username == username.lower()))
        ).first()
        if row is None:
            raise NotFound(f"there is no member {username!r}")
        await conn.execute(
            update(members)
            .where(members.c.id == row.id, members.c.disabled_at.is_(None))
            .values(disabled_at=now())
        )
        await conn.execute(delete(web_sessions).where(web_sessions.c.member_id == row.id))
        row = (await conn.execute(_member_query().where(members.c.id == row.id))).one()
    return _member(row)


async def verify_password(engine: AsyncEngine, username: str, password: str) -> Member | None:
    """The member if the password is theirs and they may sign in; None otherwise."""
    query = _member_query().where(members.c.username == username.strip().lower()[:64])
    async with db.read(engine) as conn:
        row = (await conn.execute(query)).first()
    stored = row.password_hash if row is not None else _dummy_hash()
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None or row.group_suspended_at is not None:
        return None
    if _hasher.check_needs_rehash(stored):  # costs went up since: store the stronger hash
        async with db.write(engine) as conn:
            await conn.execute(
                update(members)
                .where(members.c.id == row.id)
                .values(password_hash=hash_password(password))
            )
    return _member(row)


async def start_session(engine: AsyncEngine, member: Member, hours: float) -> tuple[str, Session]:
    """A new session: the cookie secret (shown to the browser only) and the session."""
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    started = now()
    expires = started + timedelta(hours=hours)
    async with db.write(engine) as conn:
        await conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < started))
        await conn.execute(
            insert(web_sessions).values(
                token_hash=hash_secret(secret),
                member_id=member.id,
                csrf_secret=csrf,
                created_at=started,
                expires_at=expires,
            )
        )
        await conn.execute(
            update(members).where(members.c.id == member.id).values(last_login_at=started)
        )
    return secret, Session(member, csrf, expires)


async def find_session(engine: AsyncEngine, secret: str) -> Session | None:
    """The live session for a cookie secret; None when unknown, expired, or no longer valid
    (member disabled, group suspended)."""
    if not secret or len(secret) > 200:
        return None
    query = (
        _member_query()
        .add_columns(web_sessions.c.csrf_secret, web_sessions.c.expires_at)
        .join(web_sessions, web_sessions.c.member_id == members.c.id)
        .where(web_sessions.c.token_hash == hash_secret(secret))
    )
    async with db.read(engine) as conn:
        row = (await conn.execute(query)).first()
    if row is None or as_utc(row.expires_at) <= now():
        return None
    if row.disabled_at is not None or row.group_suspended_at is not None:
        return None
    return Session(_member(row), row.csrf_secret, as_utc(row.expires_at))


async def end_session(engine: AsyncEngine, secret: str) -> None:
    async with db.write(engine) as conn:
        await conn.execute(
            delete(web_sessions).where(web_sessions.c.token_hash == hash_secret(secret))
        )
