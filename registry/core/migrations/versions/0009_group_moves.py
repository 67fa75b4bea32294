"""groups that move: moved asset IRIs, and when a partner stopped answering

Revision ID: 0009
Revises: 0007 (becomes 0008 when issue 21's migration is merged before it)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("partners", sa.Column("unreachable_since", sa.DateTime(timezone=True)))
    op.create_table(
        "moved_assets",
        sa.Column("old_iri", sa.String(2048), nullable=False),
        sa.Column("new_iri", sa.String(2048), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("group_slug", sa.String(64)),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("old_iri", name="pk_moved_assets"),
    )
    op.create_index("ix_moved_assets_new_iri", "moved_assets", ["new_iri"])


def downgrade() -> None:
    op.drop_index("ix_moved_assets_new_iri", table_name="moved_assets")
    op.drop_table("moved_assets")
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("unreachable_since")
