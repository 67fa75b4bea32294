"""Schema migrations (Alembic), run from the CLI and checked when the server starts.

Alembic is imported only by what migrates: every command checks the schema first, and
importing Alembic and loading its scripts for that took ~0.2 s of each command's start-up.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# How each script under versions/ names itself and the revision before it (the template,
# script.py.mako, writes both lines so).
_NAMES = re.compile(
    r"""^(down_revision|revision)\b[^=\n]*=\s*(?:["']([^"'\n]+)["']|None)\s*$""", re.MULTILINE
)


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema up to `revision` (blocking).

    Alembic's environment runs its own event loop, so from inside a running loop the work
    moves to a thread of its own.
    """
    from alembic import command

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(alembic_config(database_url), revision)
        return
    with ThreadPoolExecutor(1) as pool:
        pool.submit(command.upgrade, alembic_config(database_url), revision).result()


@cache
def head_revision() -> str:
    """The newest revision: the one no script names as the revision before it, read from
    the scripts' text. Alembic decides where that is not one revision (it says why)."""
    revisions, earlier = set(), set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _NAMES.findall(script.read_text(encoding="utf-8")):
            (earlier if name == "down_revision" else revisions).add(value)
    heads = revisions - earlier
    if len(heads) == 1:
        return heads.pop()
    return alembic_head()


def alembic_head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for a database never initialised."""
    async with engine.connect() as conn:
        has_table = await conn.run_sync(
            lambda sync: sync.dialect.has_table(sync, "alembic_version")
        )
        if not has_table:
            return None
        return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()


class SchemaBehind(Exception):
    """The database schema is older (or newer) than this code expects."""


async def check_schema(engine: AsyncEngine) -> None:
    current, head = await current_revision(engine), head_revision()
    if current is None:
        raise SchemaBehind("the database is not initialised: run `commons-registry init`")
    if current != head:
        raise SchemaBehind(
            f"the database schema is at revision {current} but this version needs {head}: "
            "back up the database, then run `commons-registry migrate`"
        )
