"""`commons-registry backup` and `restore`: one consistent copy of the node's database.

The database holds everything a node is (assets, the node's keys, tokens, follows, queues),
so a copy of it is a whole node. On SQLite the copy is made with SQLite's online backup API
in one step: it reads one snapshot while the server goes on writing (WAL), and the result is
a single self-contained file. A restore writes through the same API into the target, and
only while no process has the target open (or with `force`). PostgreSQL has its own tools;
this module names the commands (see docs/operations.md).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from registry.config import Settings
from registry.core.migrate import alembic_config, head_revision

BUSY_TIMEOUT = 30.0  # seconds a backup waits for a writer's checkpoint


class BackupError(Exception):
    """A backup or restore that was not done; the message says why and what to do."""


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite file of the node, or None when the node runs on PostgreSQL."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(url.database)


def pg_commands(settings: Settings, path: Path) -> str:
    """The pg_dump / pg_restore commands for a node on PostgreSQL."""
    parts = urlsplit(settings.database_url)
    user, at, host = parts.netloc.rpartition("@")
    netloc = f"{user.split(':', 1)[0]}@{host}" if at else host  # never print a password
    shown = parts._replace(netloc=netloc).geturl()
    return (
        "this node runs on PostgreSQL: use its own tools (they are consistent while the "
        "server runs; give the user and password through ~/.pgpass or PGPASSWORD):\n"
        f"  backup:  pg_dump --format=custom --no-owner --file {path} '{shown}'\n"
        f"  restore: pg_restore --clean --if-exists --no-owner --single-transaction "
        f"--dbname '{shown}' {path}\n"
        "then run `commons-registry migrate` if the dump is from an older version"
    )


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory  # only here: see registry.core.migrate

    script = ScriptDirectory.from_config(alembic_config(""))
    return {rev.revision for rev in script.walk_revisions()}


def backup(settings: Settings, path: Path) -> str:
    """Write a consistent copy of the database to `path` (which must not exist yet)."""
    source = sqlite_path(settings)
    if source is None:
        raise BackupError(pg_commands(settings, path))
    if not source.is_file():
        raise BackupError(f"there is no database at {source}: run `commons-registry init`")
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=BUSY_TIMEOUT)  # reads only; WAL needs no "ro" here
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # one step: one snapshot, never restarted by concurrent writes
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
        revision = _revision(dst)
    finally:
        dst.close()
        src.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {check}")
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    partial.rename(path)
    size = path.stat().st_size
    return f"backed up {source} to {path} ({size:,} bytes, schema revision {revision})"


def _check_backup(path: Path) -> str:
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            revision = _revision(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not an SQLite database: {exc}") from None
    if check != "ok":
        raise BackupError(f"{path} is damaged: {check}")
    if revision is None:
        raise BackupError(f"{path} is not a commons registry database (no schema revision)")
    if revision not in _known_revisions():
        raise BackupError(
            f"{path} is at schema revision {revision}, which this version does not know "
            "(a backup from a newer version?); restore it with that version"
        )
    return revision


def restore(settings: Settings, path: Path, *, force: bool = False) -> str:
    """Replace the node's database with the backup at `path`."""
    target = sqlite_path(settings)
    if target is None:
        raise BackupError(pg_commands(settings, path))
    revision = _check_backup(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    dst = sqlite3.connect(target, timeout=BUSY_TIMEOUT if force else 0.5, isolation_level=None)
    try:
        if not force:
            # Every open connection (even an idle server's) keeps this lock from us.
            dst.execute("PRAGMA locking_mode=EXCLUSIVE")
            try:
                dst.execute("BEGIN EXCLUSIVE")
                dst.execute("COMMIT")  # the lock stays: exclusive locking mode
            except sqlite3.OperationalError:
                raise BackupError(
                    f"{target} is in use (is the server or a worker running?): stop them, "
                    "or restore with --force"
                ) from None
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            src.backup(dst)
        finally:
            src.close()
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
    note = (
        ""
        if revision == head_revision()
        else f"; it is older than this version ({head_revision()}): run `commons-registry migrate`"
    )
    return f"restored {path} into {target} (schema revision {revision}){note}"
