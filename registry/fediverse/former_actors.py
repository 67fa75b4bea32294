"""A group's former actor, carried on after its node died.

A follower's server knows a group actor by the key it fetched from the actor's IRI. When that
node is gone nobody can publish a `Move` there, but a group admin who exported the group
actor's key (`group key`) can hand it to the node the group re-establishes on, which signs the
old actor's Move with it. Servers that still hold the key (Mastodon and Fedify keep the keys
they fetched) take the Move as the old actor's own word, check that the new actor names the
old one in `alsoKnownAs`, and follow the new group.

The key is held only after it matches the group actor's public key as the archive states it
(the manifest is signed by the old node), and it signs nothing but activities of that one
former actor (`GroupActors.signer_for`).
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation import keys
from federation.upserts import insert_new
from registry.core.iris import group_iri
from registry.core.schema import group_keys, groups
from registry.fediverse import group_actors
from registry.fediverse.moves import group_move_activity
from registry.fediverse.portability import Archive, ArchiveError
from vocab.times import utcnow

KEY_FILE_TYPE = "commons:GroupActorKey"


async def actor_key_file(
    engine: AsyncEngine, base: str, group_id: int, slug: str
) -> dict[str, Any]:
    """What `group key` writes and the group's token gets: the group actor's RSA key, the
    one its HTTP signatures use."""
    actor = group_iri(base, slug)
    actor_keys = await group_actors.keys_of(engine, group_id)
    return {
        "type": KEY_FILE_TYPE,
        "actor": actor,
        "keyId": f"{actor}#main-key",
        "privateKeyPem": actor_keys.rsa_private_pem,
    }


def read_actor_key(data: bytes, archive: Archive) -> str:
    """The PEM of the archived group's actor key, once it matches the archive's statement."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ArchiveError("the group key file is not JSON (written by `group key`)") from None
    if not isinstance(doc, dict) or doc.get("type") != KEY_FILE_TYPE:
        raise ArchiveError("not a group key file (written by `group key`)")
    if doc.get("actor") != archive.group_iri:
        raise ArchiveError(f"the key is {doc.get('actor')!r}'s, not {archive.group_iri}'s")
    if archive.actor_public_pem is None:
        raise ArchiveError("the archive does not state the group actor's key: export it again")
    try:
        private = keys.load_private_key_pem(str(doc.get("privateKeyPem")))
        stated = keys.load_public_key_pem(archive.actor_public_pem)
    except (keys.KeyFormatError, ValueError) as exc:
        raise ArchiveError(f"the group key cannot be read: {exc}") from None
    if not keys.same_public_key(keys.public_key_of(private), stated):
        raise ArchiveError("this key is not the group actor's key that the archive states")
    return str(doc["privateKeyPem"])


async def move_followers(
    conn: AsyncConnection, node: Any, slug: str, archive: Archive, pem: str
) -> int:
    """Hold the former actor's key for group `slug` (here) and queue the former actor's Move
    to the followers the archive lists, in the caller's transaction. Returns their number."""
    group_id = (await conn.execute(select(groups.c.id).where(groups.c.slug == slug))).scalar_one()
    values = {
        "group_id": group_id,
        "name": group_actors.FORMER_RSA,
        "private_pem": pem,
        "created_at": utcnow(),
    }
    await insert_new(conn, group_keys, values, ["group_id", "name"])
    old = archive.group_iri
    move = group_move_activity(
        node,
        old,
        group_iri(node.base, slug),
        activity_id=f"{old}#moves/{uuid.uuid4().hex}",  # on the old actor's host, as its own
    )
    inboxes = sorted({f.get("sharedInbox") or f["inbox"] for f in archive.followers})
    await group_actors.publish_as_group(conn, group_id, move, inboxes, listed=False)
    return len(archive.followers)
