"""The federation layer's own state, on whatever engine the application hands it.

These tables hold protocol state only (who follows whom, what arrived, what must be sent);
nothing here knows what the activities are about.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from federation.sql import Id, metadata, utc

# Actors of other servers, as last fetched: their keys and where to deliver to them.
remote_actors = Table(
    "remote_actors",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("iri", String(2048), nullable=False, unique=True),
    Column("host", String(255), nullable=False),
    Column("type", String(64), nullable=False),
    Column("preferred_username", String(255)),
    Column("name", Text),
    Column("inbox", String(2048)),
    Column("shared_inbox", String(2048)),
    Column("outbox", String(2048)),
    Column("document", Text, nullable=False),
    Column("fetched_at", utc(), nullable=False),
    Index("ix_remote_actors_host", "host"),
)

# Public keys by key id (an actor may have several: RSA for HTTP signatures, Ed25519 Multikeys).
remote_keys = Table(
    "remote_keys",
    metadata,
    Column("key_id", String(2048), primary_key=True),
    Column("owner", String(2048), nullable=False),
    Column("public_key_pem", Text, nullable=False),
    Column("fetched_at", utc(), nullable=False),
)

# Every activity that arrived, once (its id is unique): persisted before the 202, applied after.
inbox_items = Table(
    "inbox_items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("activity_id", String(2048), nullable=False, unique=True),
    Column("actor", String(2048), nullable=False),
    Column("host", String(255), nullable=False),
    Column("type", String(64), nullable=False),
    Column("object_id", String(2048)),
    Column("body", Text, nullable=False),
    Column("signer", String(2048), nullable=False),
    Column("received_at", utc(), nullable=False),
    Column("state", String(16), nullable=False),  # pending | done | ignored | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("available_at", utc(), nullable=False),
    Column("locked_by", String(64)),
    Column("locked_until", utc()),
    Column("processed_at", utc()),
    Column("result", Text),  # what the handler did, or why it failed / was ignored
    Index("ix_inbox_items_queue", "state", "available_at"),
)

followers = Table(
    "followers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("actor", String(2048), nullable=False, unique=True),
    Column("host", String(255), nullable=False),
    Column("inbox", String(2048), nullable=False),
    Column("shared_inbox", String(2048)),
    Column("follow_id", String(2048), nullable=False),
    Column("state", String(16), nullable=False),  # pending | accepted | rejected
    Column("created_at", utc(), nullable=False),
    Column("decided_at", utc()),
    Index("ix_followers_state", "state"),
)

following = Table(
    "following",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("actor", String(2048), nullable=False, unique=True),
    Column("host", String(255), nullable=False),
    Column("follow_id", String(2048), nullable=False, unique=True),
    Column("state", String(16), nullable=False),  # pending | accepted | rejected
    Column("created_at", utc(), nullable=False),
    Column("decided_at", utc()),
)

# What this node published, in order: the outbox collection and the source of deliveries.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("activity_id", String(2048), nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    Column("object_id", String(2048)),
    Column("body", Text, nullable=False),
    Column("public", Boolean, nullable=False, server_default=false()),
    Column("published_at", utc(), nullable=False),
)

# One row per (activity, inbox): the durable delivery queue.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("outbox_id", Id, ForeignKey("outbox.id", ondelete="CASCADE"), nullable=False),
    Column("inbox", String(2048), nullable=False),
    Column("host", String(255), nullable=False),
    Column("state", String(16), nullable=False),  # pending | done | dead
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", utc(), nullable=False),
    Column("locked_by", String(64)),
    Column("locked_until", utc()),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("created_at", utc(), nullable=False),
    Column("done_at", utc()),
    UniqueConstraint("outbox_id", "inbox"),
    Index("ix_deliveries_queue", "state", "next_attempt_at"),
    Index("ix_deliveries_host", "host", "state"),
)

# Per remote host: the circuit breaker of deliveries.
delivery_hosts = Table(
    "delivery_hosts",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("open_until", utc()),
    Column("last_success_at", utc()),
    Column("last_failure_at", utc()),
    Column("last_error", Text),
)

# Signatures of requests the inbox took, for the clock-skew window (the replay memory), shared
# by every process on the database.
seen_signatures = Table(
    "seen_signatures",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("expires_at", utc(), nullable=False),
    Index("ix_seen_signatures_expires_at", "expires_at"),
)

# Token buckets shared by every process (rate limits that hold with `serve --workers N`).
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", utc(), nullable=False),
)
