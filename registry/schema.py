"""Tables of the registry (SQLAlchemy Core). Migrations in registry/migrations mirror these.

The JSON-LD document in `assets.document` is the source of truth; the other asset columns and
the full-text index are projections of it that exist only to make search fast.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger ids that are still SQLite rowid aliases (SQLite only auto-increments INTEGER PKs).
Id = BigInteger().with_variant(Integer, "sqlite")


def utc() -> DateTime:
    return DateTime(timezone=True)


node_keys = Table(
    "node_keys",
    metadata,
    Column("name", String(32), primary_key=True),  # "rsa" or "ed25519"
    Column("private_pem", Text, nullable=False),
    Column("created_at", utc(), nullable=False),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", utc(), nullable=False),
    Column("suspended_at", utc()),
    Column("suspended_reason", Text),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("role", String(16), nullable=False),  # "admin" or "group"
    Column("group_id", Id, ForeignKey("groups.id", ondelete="CASCADE")),
    Column("label", String(200), nullable=False, server_default=""),
    Column("created_at", utc(), nullable=False),
    Column("last_used_at", utc()),
    Column("revoked_at", utc()),
)

assets = Table(
    "assets",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("uid", String(32), nullable=False, unique=True),
    Column("iri", String(2048), nullable=False, unique=True),
    Column("origin", String(255), nullable=False),  # "local" or the origin node's host
    Column("group_id", Id, ForeignKey("groups.id", ondelete="SET NULL")),
    Column("moderation", String(16), nullable=False),  # published | pending | rejected
    Column("moderation_reason", Text),
    Column("pending_document", Text),  # a change waiting for approval; the public one stays
    Column("source_ref", String(512)),  # importer's stable key for idempotent re-imports
    Column("name", Text, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("country", String(2)),
    Column("locality", Text),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("search_name", Text, nullable=False, server_default=""),
    Column("search_text", Text, nullable=False, server_default=""),
    Column("document", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", utc(), nullable=False),
    Column("updated_at", utc(), nullable=False),
    Column("deleted_at", utc()),
    Column("change_seq", BigInteger, nullable=False),
    UniqueConstraint("source_ref"),
    Index("ix_assets_search_scope", "moderation", "deleted_at", "origin"),
    Index("ix_assets_kind", "kind"),
    Index("ix_assets_country", "country"),
    Index("ix_assets_status", "status"),
    Index("ix_assets_latitude", "latitude"),
    Index("ix_assets_group", "group_id"),
    Index("ix_assets_change_seq", "change_seq"),
    Index("ix_assets_search_name", "search_name"),
)

asset_tags = Table(
    "asset_tags",
    metadata,
    Column("asset_id", Id, ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(64), primary_key=True),
    Index("ix_asset_tags_tag", "tag", "asset_id"),
)

moderation_log = Table(
    "moderation_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", utc(), nullable=False),
    Column("actor", String(200), nullable=False),  # who decided: "admin token #3", "cli"
    Column("action", String(64), nullable=False),
    Column("subject", String(2048), nullable=False),
    Column("reason", Text),
)

ADMIN = "admin"
GROUP = "group"
PUBLISHED, PENDING, REJECTED = "published", "pending", "rejected"
LOCAL = "local"

__all__ = [
    "ADMIN",
    "GROUP",
    "LOCAL",
    "PENDING",
    "PUBLISHED",
    "REJECTED",
    "asset_tags",
    "assets",
    "groups",
    "metadata",
    "moderation_log",
    "node_keys",
    "tokens",
]
