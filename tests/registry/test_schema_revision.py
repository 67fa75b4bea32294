"""Every command checks the schema's revision against the newest script's, read from the
scripts' text without Alembic (registry.core.migrate.head_revision): it must be Alembic's."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.util import CommandError

from registry.core import migrate

NEXT = '''"""A later change."""

revision: str = "{revision}"
down_revision: str | None = "{down}"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


@pytest.fixture
def scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the migrations, read in place of the real ones."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    migrate.head_revision.cache_clear()
    yield copy / "versions"
    migrate.head_revision.cache_clear()


def test_the_newest_revision_is_alembics_read_without_alembic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    head = migrate.alembic_head()
    monkeypatch.setattr(migrate, "alembic_head", lambda: "asked Alembic")
    migrate.head_revision.cache_clear()
    try:
        assert migrate.head_revision() == head
    finally:
        migrate.head_revision.cache_clear()


def test_a_new_script_is_the_newest_revision(
    scripts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = migrate.alembic_head()
    (scripts / "9001_later.py").write_text(NEXT.format(revision="9001", down=head))
    assert migrate.alembic_head() == "9001"
    monkeypatch.setattr(migrate, "alembic_head", lambda: "asked Alembic")
    assert migrate.head_revision() == "9001"


def test_two_newest_revisions_are_left_to_alembic_which_refuses_them(scripts: Path) -> None:
    head = migrate.alembic_head()
    (scripts / "9001_later.py").write_text(NEXT.format(revision="9001", down=head))
    (scripts / "9002_beside.py").write_text(NEXT.format(revision="9002", down=head))
    with pytest.raises(CommandError, match="multiple heads"):
        migrate.head_revision()
