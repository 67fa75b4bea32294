"""Follows the admin asks for: follow and unfollow other nodes, decide on followers."""

from __future__ import annotations

from typing import Any

from federation import activities, follows
from federation.actors import ActorError, RemoteActor
from federation.outbox import publish
from registry.core import db
from registry.core.errors import NotFound, Unprocessable
from registry.fediverse.federation import Federation
from registry.fediverse.follow_handlers import answer_follow


async def follow(federation: Federation, target: str) -> RemoteActor:
    """Send a Follow to `target` (a handle, an actor URL or a node's URL)."""
    try:
        actor = await federation.directory.resolve(target)
    except ActorError as exc:
        raise Unprocessable(f"cannot follow {target}: {exc}") from None
    if actor.iri == federation.node.actor_iri:
        raise Unprocessable("a node cannot follow itself")
    if federation.blocked(actor.host):
        raise Unprocessable(f"{actor.host} is blocked")
    if not actor.inbox:
        raise Unprocessable(f"{actor.iri} has no inbox")
    node = federation.node
    request = activities.follow(id=node.new_activity_id(), actor=node.actor_iri, object=actor.iri)
    async with db.write(federation.engine) as conn:
        await follows.record_following(conn, actor, request["id"])
        await publish(conn, request, [actor.inbox], public=False)
    federation.delivery.wake()
    return actor


async def unfollow(federation: Federation, target: str) -> str:
    """Undo our Follow of `target` (by actor IRI or handle)."""
    async with db.read(federation.engine) as conn:
        row = await follows.get_following(conn, target)
    if row is None:
        try:
            actor = await federation.directory.resolve(target)
        except ActorError as exc:
            raise NotFound(f"not following {target}: {exc}") from None
        async with db.read(federation.engine) as conn:
            row = await follows.get_following(conn, actor.iri)
    if row is None:
        raise NotFound(f"this node does not follow {target}")
    actor = await federation.directory.get(row.actor)
    node = federation.node
    undo = activities.undo(
        id=node.new_activity_id(),
        actor=node.actor_iri,
        object=activities.follow(id=row.follow_id, actor=node.actor_iri, object=row.actor),
    )
    async with db.write(federation.engine) as conn:
        await follows.remove_following(conn, row.actor)
        if actor.inbox:
            await publish(conn, undo, [actor.inbox], public=False)
    federation.delivery.wake()
    return row.actor


async def followers(federation: Federation, state: str | None = None) -> list[Any]:
    async with db.read(federation.engine) as conn:
        return await follows.list_followers(conn, state)


async def decide(federation: Federation, actor_iri: str, action: str) -> None:
    """Approve or reject a pending follower, or remove a follower."""
    async with db.write(federation.engine) as conn:
        row = await follows.get_follower(conn, actor_iri)
        if row is None:
            raise NotFound(f"{actor_iri} is not a follower or follow request")
        if action == "remove":
            await follows.remove_follower(conn, actor_iri)
            return
        state = follows.ACCEPTED if action == "approve" else follows.REJECTED
        await follows.decide_follower(conn, actor_iri, state)
        follow_request = activities.follow(
            id=row.follow_id, actor=actor_iri, object=federation.node.actor_iri
        )
        await answer_follow(conn, federation.node, follow_request, row.inbox, state)
    federation.delivery.wake()
