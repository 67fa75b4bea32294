"""a covering index for the map's grid clusters

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["moderation", "deleted_at", "latitude", "longitude", "kind", "country", "status", "origin"]


def upgrade() -> None:
    op.create_index("ix_assets_map", "assets", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_assets_map", table_name="assets")
