"""asset documents stored with their known contexts by reference

Revision ID: 0013
Revises: 0012

Each asset document carries its 2.5 kB JSON-LD context inline, twice when signed: most of
every stored document. From this revision the node stores each known context as a short
reference (registry.core.stored_documents) and puts it back when reading, byte for byte.
The upgrade rewrites the documents already held that way (20,000 generated assets: 7,496
bytes a document on SQLite, 2,543 after); the downgrade writes them back in full, so that
an earlier version can read them. The schema itself does not change.
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from registry.core.stored_documents import from_stored, to_stored

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000  # documents read and written per statement


def _rewrite(convert: Callable[[str], str]) -> None:
    bind = op.get_bind()
    read = sa.text(
        "SELECT asset_id, document, pending_document FROM asset_documents "
        "WHERE asset_id > :after ORDER BY asset_id LIMIT :batch"
    )
    write = sa.text(
        "UPDATE asset_documents SET document = :document, pending_document = :pending "
        "WHERE asset_id = :asset_id"
    )
    after = 0
    while rows := bind.execute(read, {"after": after, "batch": BATCH}).all():
        changed = []
        for row in rows:
            document = convert(row.document)
            pending = None if row.pending_document is None else convert(row.pending_document)
            if document != row.document or pending != row.pending_document:
                changed.append({"asset_id": row.asset_id, "document": document, "pending": pending})
        if changed:
            bind.execute(write, changed)
        after = rows[-1].asset_id


def upgrade() -> None:
    _rewrite(to_stored)


def downgrade() -> None:
    _rewrite(from_stored)
