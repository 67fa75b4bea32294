"""Tables of the registry (SQLAlchemy Core). Migrations in registry/core/migrations mirror these.

The JSON-LD document in `asset_documents.document` is the source of truth; the columns of
`assets`, `asset_search` and `asset_tags` are projections of it that exist only to make search
fast. Documents live apart from the projections so that the rows every search scans stay small
(a row with its document is ten times larger and scans ten times slower).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.types import TypeDecorator

from federation.sql import Id, metadata, utc
from registry.core.stored_documents import from_stored, to_stored


class DocumentText(TypeDecorator[str]):
    """A TEXT column of JSON documents, stored with their known contexts by reference
    (registry.core.stored_documents)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return to_stored(value) if isinstance(value, str) else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return from_stored(value) if isinstance(value, str) else value


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
    # The name of the bundled sample (registry/catalog/samples) this group holds, or NULL for
    # real groups.
    Column("sample", String(32)),
    # What a new asset of the group gets when its author says nothing (registry.catalog.visibility).
    Column("default_visibility", String(16), nullable=False, server_default="public"),
    Column("default_license", String(200)),
    # A group that moved (registry/fediverse/moves.py): here, the actor it became elsewhere
    # (`movedTo`); on the node it moved to, the actors it was (`alsoKnownAs`, a JSON list).
    Column("moved_to", String(2048)),
    Column("also_known_as", Text),
)

# Each group is an ActivityPub Group actor with its own keys (as the node's, made once).
group_keys = Table(
    "group_keys",
    metadata,
    Column("group_id", Id, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(32), primary_key=True),  # "rsa" or "ed25519"
    Column("private_pem", Text, nullable=False),
    Column("created_at", utc(), nullable=False),
)

# Fediverse accounts that follow one group actor (the node's own followers are
# federation.tables.followers; one remote actor may follow the node and several groups).
group_followers = Table(
    "group_followers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("group_id", Id, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("actor", String(2048), nullable=False),
    Column("host", String(255), nullable=False),
    Column("inbox", String(2048), nullable=False),
    Column("shared_inbox", String(2048)),
    Column("follow_id", String(2048), nullable=False),
    Column("state", String(16), nullable=False),  # accepted | rejected
    Column("created_at", utc(), nullable=False),
    UniqueConstraint("group_id", "actor"),
)

# Which outbox activities a group actor published (its outbox collection).
group_outbox = Table(
    "group_outbox",
    metadata,
    Column("outbox_id", Id, primary_key=True),  # federation's outbox.id (another metadata)
    Column("group_id", Id, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("listed", Boolean, nullable=False),  # shown in the group's outbox collection
    Index("ix_group_outbox_group_id", "group_id", "outbox_id"),
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
    Column("has_pending", Boolean, nullable=False, server_default=false()),
    Column("source_ref", String(512)),  # importer's stable key for idempotent re-imports
    Column("name", Text, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("country", String(2)),
    Column("locality", Text),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("search_name", Text, nullable=False, server_default=""),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", utc(), nullable=False),
    Column("updated_at", utc(), nullable=False),
    Column("deleted_at", utc()),
    Column("change_seq", BigInteger, nullable=False),
    # Who may see it: public | unlisted | partners | group (registry.catalog.visibility).
    Column("visibility", String(16), nullable=False, server_default="public"),
    UniqueConstraint("source_ref"),
    # Covers facet counting: published, live rows grouped by kind, country and status are read
    # from the index alone, in its order.
    Index(
        "ix_assets_facets",
        "moderation",
        "deleted_at",
        "kind",
        "country",
        "status",
        "origin",
        "visibility",
    ),
    # Covers a box of one kind (search `kind=…&bbox=…`, its facets): the kind's entries in the
    # box's latitude band only, where `ix_assets_map` reads the band of every kind.
    Index(
        "ix_assets_kind_map",
        "moderation",
        "deleted_at",
        "kind",
        "latitude",
        "longitude",
        "country",
        "status",
        "origin",
        "visibility",
    ),
    Index("ix_assets_country", "country"),
    Index("ix_assets_status", "status"),
    Index("ix_assets_position", "latitude", "longitude"),
    # Covers the map's grid (registry.catalog.map_layer): counted from the index alone, no
    # table rows.
    Index(
        "ix_assets_map",
        "moderation",
        "deleted_at",
        "latitude",
        "longitude",
        "kind",
        "country",
        "status",
        "origin",
        "visibility",
    ),
    Index("ix_assets_group", "group_id"),
    Index("ix_assets_change_seq", "change_seq"),
    Index("ix_assets_search_name", "search_name"),
)

asset_documents = Table(
    "asset_documents",
    metadata,
    Column("asset_id", Id, ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    # Stored with their contexts by reference (registry.core.stored_documents).
    Column("document", DocumentText, nullable=False),
    Column("pending_document", DocumentText),  # a change awaiting approval; the public one stays
)

# Indexed by FTS5 (SQLite) or a generated tsvector (PostgreSQL); see the first migration.
asset_search = Table(
    "asset_search",
    metadata,
    Column("asset_id", Id, ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    Column("search_name", Text, nullable=False),
    Column("search_text", Text, nullable=False),
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

# Partner nodes whose catalogs this node mirrors, and where their sync stands.
partners = Table(
    "partners",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("actor", String(2048), nullable=False, unique=True),
    Column("host", String(255), nullable=False, unique=True),
    Column("name", Text),
    Column("changes_url", String(2048), nullable=False),
    Column("catalog_url", String(2048), nullable=False),
    Column("added_at", utc(), nullable=False),
    Column("checkpoint_seq", BigInteger, nullable=False, server_default="0"),
    Column("backfilled_at", utc()),  # the first complete pass over its catalog
    Column("sync_requested_at", utc()),
    Column("last_sync_at", utc()),
    Column("last_sync_error", Text),
    Column("last_sync_report", Text),
    Column("locked_by", String(64)),
    Column("locked_until", utc()),
    # The first failed sync since the last good one; NULL while the partner answers.
    Column("unreachable_since", utc()),
)

# Assets that moved between nodes (moves.py): `origin` rows are ours that moved away
# (their old IRIs redirect), `imported` rows came here with a group, `copy` rows are mirrored
# copies re-keyed to their new origin.
moved_assets = Table(
    "moved_assets",
    metadata,
    Column("old_iri", String(2048), primary_key=True),
    Column("new_iri", String(2048), nullable=False),
    Column("role", String(16), nullable=False),
    Column("group_slug", String(64)),
    Column("moved_at", utc(), nullable=False),
    Index("ix_moved_assets_new_iri", "new_iri"),
)

# Small facts about this node that outlive processes (e.g. the changes-feed horizon).
node_state = Table(
    "node_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# People who sign in to the web interface: a group's members, or the node's admins.
members = Table(
    "members",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("role", String(16), nullable=False),  # "admin" or "group"
    Column("group_id", Id, ForeignKey("groups.id", ondelete="CASCADE")),
    Column("created_at", utc(), nullable=False),
    Column("last_login_at", utc()),
    Column("disabled_at", utc()),
)

# Browser sessions; the cookie holds a random secret, the table only its hash.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("member_id", Id, ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_secret", String(64), nullable=False),
    Column("created_at", utc(), nullable=False),
    Column("expires_at", utc(), nullable=False),
)

# Remote domains the admins blocked: no activities, follows or fetches; mirrored copies purged.
domain_blocks = Table(
    "domain_blocks",
    metadata,
    Column("domain", String(255), primary_key=True),  # normalised (IDNA, lower case)
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_at", utc(), nullable=False),
    Column("created_by", String(200), nullable=False, server_default=""),
)

# What admins did (blocks, suspensions, revocations), for the audit log.
admin_log = Table(
    "admin_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", utc(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(2048), nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
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
    "admin_log",
    "asset_documents",
    "asset_search",
    "asset_tags",
    "assets",
    "domain_blocks",
    "group_followers",
    "group_keys",
    "group_outbox",
    "groups",
    "members",
    "metadata",
    "moderation_log",
    "moved_assets",
    "node_keys",
    "node_state",
    "partners",
    "tokens",
]
