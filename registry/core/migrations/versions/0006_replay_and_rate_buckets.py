"""shared replay memory and rate buckets (issue 13)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('seen_signatures',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_seen_signatures'))
    )
    op.create_index('ix_seen_signatures_expires_at', 'seen_signatures', ['expires_at'], unique=False)
    op.create_table('rate_buckets',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_buckets'))
    )


def downgrade() -> None:
    op.drop_table('rate_buckets')
    op.drop_index('ix_seen_signatures_expires_at', table_name='seen_signatures')
    op.drop_table('seen_signatures')
