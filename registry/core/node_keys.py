"""The node's own identity: its key pairs, made once by `init` and never regenerated."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from federation import keys
from registry.core import db
from registry.core.schema import node_keys
from vocab.times import utcnow as now

RSA, ED25519 = "rsa", "ed25519"


async def ensure_node_keys(engine: AsyncEngine) -> bool:
    """Create the RSA (HTTP signatures) and Ed25519 (object proofs) keys if missing."""
    async with db.write(engine) as conn:
        present = {row.name for row in await conn.execute(select(node_keys.c.name))}
        made = {}
        if RSA not in present:
            made[RSA] = keys.generate_rsa_private_pem()
        if ED25519 not in present:
            made[ED25519] = keys.generate_ed25519_private_pem()
        if made:
            await conn.execute(
                insert(node_keys),
                [
                    {"name": name, "private_pem": pem, "created_at": now()}
                    for name, pem in made.items()
                ],
            )
        return bool(made)


async def node_created(engine: AsyncEngine) -> datetime | None:
    """When `init` made the node (its first key): the actor's stable `published`."""
    async with db.read(engine) as conn:
        created = await conn.scalar(select(func.min(node_keys.c.created_at)))
    if created is None:
        return None
    return created.replace(tzinfo=UTC) if created.tzinfo is None else created  # SQLite: naive


async def load_node_keys(engine: AsyncEngine) -> keys.NodeKeys:
    async with db.read(engine) as conn:
        pems = {row.name: row.private_pem for row in await conn.execute(select(node_keys))}
    if RSA not in pems or ED25519 not in pems:
        raise RuntimeError("the node has no keys: run `commons-registry init`")
    return keys.NodeKeys.from_pems(rsa_private_pem=pems[RSA], ed25519_private_pem=pems[ED25519])
