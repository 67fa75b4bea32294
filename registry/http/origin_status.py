"""Copies whose origin node stopped answering (issue 22): still served and searchable, marked
"origin unreachable since ...", and given the origin's proof key as this node holds it, so
anyone can still check that a copy is exactly what its origin signed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from federation import keys, proofs
from federation.tables import remote_keys
from registry.catalog.store import StoredAsset
from registry.core import db
from registry.core.schema import LOCAL
from registry.fediverse.moves import unreachable_origins
from vocab.times import iso


async def held_key(engine: Any, key_id: str) -> dict[str, str] | None:
    """The origin's Ed25519 proof key as this node verified copies with it (Multikey form)."""
    async with db.read(engine) as conn:
        pem = await conn.scalar(
            select(remote_keys.c.public_key_pem).where(remote_keys.c.key_id == key_id)
        )
    if pem is None:
        return None
    public = keys.load_public_key_pem(pem)
    try:
        multikey = keys.ed25519_to_multikey(public)  # type: ignore[arg-type]
    except (TypeError, ValueError, AttributeError):
        return None
    return {"id": key_id, "type": "Multikey", "publicKeyMultibase": multikey}


async def annotate(
    engine: Any, settings: Any, pairs: list[tuple[StoredAsset, dict[str, Any]]]
) -> dict[str, datetime]:
    """Add `origin_unreachable_since` (and `origin_key`) to the JSON of affected copies."""
    if not any(asset.origin != LOCAL for asset, _ in pairs):
        return {}
    quiet = await unreachable_origins(engine, settings)
    for asset, body in pairs:
        since = quiet.get(asset.origin)
        if asset.origin == LOCAL or since is None:
            continue
        body["origin_unreachable_since"] = iso(since)
        try:
            body["origin_key"] = await held_key(engine, proofs.verification_method(asset.document))
        except proofs.ProofError:
            body["origin_key"] = None
    return quiet
