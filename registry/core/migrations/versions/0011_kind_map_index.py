"""a covering index for a box of one kind, in place of the index on kind alone

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    "moderation",
    "deleted_at",
    "kind",
    "latitude",
    "longitude",
    "country",
    "status",
    "origin",
    "visibility",
]


def upgrade() -> None:
    op.create_index("ix_assets_kind_map", "assets", COLUMNS)
    op.drop_index("ix_assets_kind", table_name="assets")


def downgrade() -> None:
    op.create_index("ix_assets_kind", "assets", ["kind"])
    op.drop_index("ix_assets_kind_map", table_name="assets")
