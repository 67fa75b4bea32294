"""groups that moved: the actor a group became (`movedTo`) and the actors it was (`alsoKnownAs`)

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("moved_to", sa.String(2048)))
        batch.add_column(sa.Column("also_known_as", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("also_known_as")
        batch.drop_column("moved_to")
