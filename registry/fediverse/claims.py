"""A group re-established on a new node after its old node died, without an export.

Partners keep verbatim copies of the old node's assets, each with the old node's FEP-8b32
proof. Whoever still holds the old node's Ed25519 key (exported beforehand with
`commons-registry key export`; with group actors, the group's own key) can prove it:

1. A partner writes out the copies it holds of the old node (`copies_document`); the file
   is only a carrier, nothing in it is trusted.
2. The new node signs a `commons:MoveAuthorization` (old node -> this node) with the held
   key, keeps every copy whose proof verifies with that same key and names an IRI on the old
   node, and adopts them under new IRIs with `alsoKnownAs` (registry/fediverse/moves.py).
3. It sends partners one `Move` per asset with the authorization as `instrument`; each
   partner checks the authorization against the old node's key it already holds and re-keys
   its copies (registry/fediverse/move_handlers.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import select

import vocab
from federation import keys, proofs
from federation.hosts import InvalidHost, host_of
from registry.core import db
from registry.core.schema import PUBLISHED, asset_documents, assets
from registry.fediverse.moves import AdoptItem
from registry.fediverse.portability import ArchiveError, authorization, group_iri, proof_key_id
from vocab.times import utcnow


async def copies_document(engine: Any, origin: str) -> dict[str, Any]:
    """The live copies this node holds of `origin`'s assets (a node URL or host), verbatim."""
    try:
        host = host_of(origin if "://" in origin else f"https://{origin}")
    except InvalidHost as exc:
        raise ArchiveError(f"{origin!r} is not a node: {exc}") from None
    async with db.read(engine) as conn:
        rows = await conn.execute(
            select(asset_documents.c.document)
            .select_from(assets.join(asset_documents, asset_documents.c.asset_id == assets.c.id))
            .where(assets.c.origin == host, assets.c.deleted_at.is_(None))
            .order_by(assets.c.id)
        )
        documents = [orjson.loads(row.document) for row in rows]
    return {"type": "commons:HeldCopies", "origin": host, "documents": documents}


def load_claim_key(pem: bytes) -> ed25519.Ed25519PrivateKey:
    try:
        key = keys.load_private_key_pem(pem)
    except (keys.KeyFormatError, ValueError) as exc:
        raise ArchiveError(f"the key file is not a private key in PEM: {exc}") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ArchiveError("the key must be the old node's Ed25519 key (its object-proof key)")
    return key


@dataclass(frozen=True)
class Claim:
    authorization: dict[str, Any]
    items: list[AdoptItem]
    unproven: int  # copies left out: no proof by the held key (or not the old node's)


def _in_group(document: dict[str, Any], origin: str, slug: str) -> bool:
    """With group actors (issue 21) an asset is attributed to its group too: keep only the
    claimed group's. Before them, every asset of the node is the node's (and so claimable)."""
    named = document.get("attributedTo")
    named = named if isinstance(named, list) else [named]
    groups = [n for n in named if isinstance(n, str) and n.startswith(f"{origin}/groups/")]
    return not groups or group_iri(origin, slug) in groups


def build_claim(
    key: ed25519.Ed25519PrivateKey, *, origin: str, slug: str, target: str, copies: Any
) -> Claim:
    """Verify the copies against the held key and sign the authorization (no writes)."""
    origin = origin.rstrip("/")
    documents = copies.get("documents") if isinstance(copies, dict) else None
    if not isinstance(documents, list):
        raise ArchiveError("the copies file holds no `documents` list")
    public = key.public_key()
    items, unproven = [], 0
    for document in documents:
        if not isinstance(document, dict) or not str(document.get("id", "")).startswith(
            origin + "/"
        ):
            unproven += 1
            continue
        try:
            if proofs.verification_method(document) != proof_key_id(origin):
                raise proofs.ProofError("signed by another key")
            proofs.verify_object(document, public)
            record, meta = vocab.read_asset_document(document)
        except (proofs.ProofError, vocab.ValidationError):
            unproven += 1
            continue
        if not _in_group(document, origin, slug):
            continue
        items.append(
            AdoptItem(
                meta.iri,
                record,
                meta.published or utcnow(),
                PUBLISHED,
                tuple(a for a in meta.also_known_as if a != meta.iri),
            )
        )
    if not items:
        raise ArchiveError(
            f"no copy in the file is proven by this key as an asset of {origin} "
            f"({unproven} copies without a matching proof)"
        )
    return Claim(authorization(key, origin, slug, target), items, unproven)
