"""a short pending list for the full-text GIN index (PostgreSQL)

Revision ID: 0012
Revises: 0011

New entries of a GIN index wait in its pending list until a VACUUM, an autoanalyze or a
full list moves them into the index, and every search reads the whole list meanwhile. At
the default limit (4 MB, ~500 pages) a full-text search on a million-asset catalog read 389
pending pages before its own entries: 2.5-5.8 ms of each statement, against 0.2-0.4 ms
with the list merged. 512 kB bounds that read to 64 pages; a 50,000-asset import took the
same time either way (28.9-33.2 s at the default, 27.6-30.5 s at 512 kB).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_LIST_KB = 512


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"ALTER INDEX ix_asset_search_vector SET (gin_pending_list_limit = {PENDING_LIST_KB})"
    )
    op.execute("SELECT gin_clean_pending_list('ix_asset_search_vector'::regclass)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX ix_asset_search_vector RESET (gin_pending_list_limit)")
