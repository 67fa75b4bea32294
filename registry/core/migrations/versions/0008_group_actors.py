"""groups as ActivityPub actors (keys, followers, outbox), visibility per asset, group defaults

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FACETS = ["moderation", "deleted_at", "kind", "country", "status", "origin"]
MAP = ["moderation", "deleted_at", "latitude", "longitude", "kind", "country", "status", "origin"]


def upgrade() -> None:
    with op.batch_alter_table("groups") as batch_op:
        batch_op.add_column(
            sa.Column(
                "default_visibility", sa.String(16), nullable=False, server_default="public"
            )
        )
        batch_op.add_column(sa.Column("default_license", sa.String(200), nullable=True))
    op.add_column(
        "assets",
        sa.Column("visibility", sa.String(16), nullable=False, server_default="public"),
    )
    # The covering indexes keep covering: the visibility rule is one more column they hold.
    op.drop_index("ix_assets_facets", table_name="assets")
    op.create_index("ix_assets_facets", "assets", [*FACETS, "visibility"])
    op.drop_index("ix_assets_map", table_name="assets")
    op.create_index("ix_assets_map", "assets", [*MAP, "visibility"])
    op.create_table(
        "group_keys",
        sa.Column("group_id", Id, nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name="fk_group_keys_group_id_groups",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "name", name="pk_group_keys"),
    )
    op.create_table(
        "group_followers",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("group_id", Id, nullable=False),
        sa.Column("actor", sa.String(2048), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("inbox", sa.String(2048), nullable=False),
        sa.Column("shared_inbox", sa.String(2048), nullable=True),
        sa.Column("follow_id", sa.String(2048), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name="fk_group_followers_group_id_groups",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_group_followers"),
        sa.UniqueConstraint("group_id", "actor", name="uq_group_followers_group_id_actor"),
    )
    op.create_table(
        "group_outbox",
        sa.Column("outbox_id", Id, nullable=False),
        sa.Column("group_id", Id, nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name="fk_group_outbox_group_id_groups",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("outbox_id", name="pk_group_outbox"),
    )
    op.create_index("ix_group_outbox_group_id", "group_outbox", ["group_id", "outbox_id"])


def downgrade() -> None:
    op.drop_index("ix_group_outbox_group_id", table_name="group_outbox")
    op.drop_table("group_outbox")
    op.drop_table("group_followers")
    op.drop_table("group_keys")
    op.drop_index("ix_assets_map", table_name="assets")
    op.create_index("ix_assets_map", "assets", MAP)
    op.drop_index("ix_assets_facets", table_name="assets")
    op.create_index("ix_assets_facets", "assets", FACETS)
    with op.batch_alter_table("assets") as batch_op:
        batch_op.drop_column("visibility")
    with op.batch_alter_table("groups") as batch_op:
        batch_op.drop_column("default_license")
        batch_op.drop_column("default_visibility")
