"""What the node does with Follow, Undo(Follow), Accept and Reject, and an actor's Update of
itself. Each handler is a named function; `registry.fediverse.handler_table` registers them."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from federation import activities, follows
from federation.actors import ActorError, RemoteActor
from federation.dispatch import Activity, Ignore, Retry
from federation.inbox import first_type, ref
from federation.outbox import publish
from registry.fediverse import group_actors
from registry.fediverse.identity import NodeIdentity
from registry.fediverse.inbox_context import InboxContext

log = logging.getLogger("registry.follows")


def is_follow(value: Any) -> bool:
    """An Accept/Reject/Undo object that is (or names) a Follow; bare IRIs can only be
    checked against our own records, which the handlers do."""
    if isinstance(value, dict):
        return first_type(value.get("type")) == "Follow"
    return isinstance(value, str)


async def fetch_actor(ctx: InboxContext, activity: Activity) -> RemoteActor:
    """Prepare a Follow: the follower's actor (its inbox, its keys)."""
    try:
        return await ctx.directory.get(activity.actor)
    except ActorError as exc:
        if exc.permanent:  # gone, or not an actor: six more tries would change nothing
            raise Ignore(str(exc)) from None
        raise Retry(str(exc)) from None


async def refetch_actor(ctx: InboxContext, activity: Activity) -> None:
    """Prepare an actor's Update of itself (a new key, a new inbox): fetch it again, so that
    its keys rotate now rather than at its next failed signature or when they age out."""
    if ref(activity.object) != activity.actor:
        raise Ignore(f"an Update of {ref(activity.object)}, which this node does not keep")
    try:
        await ctx.directory.get(activity.actor, refresh=True)
    except ActorError as exc:
        raise (Ignore if exc.permanent else Retry)(str(exc)) from None


async def on_actor_update(
    ctx: InboxContext, conn: AsyncConnection, activity: Activity, _: Any
) -> str:
    return "actor and its keys fetched again"


async def on_follow(
    ctx: InboxContext, conn: AsyncConnection, activity: Activity, actor: RemoteActor
) -> str:
    node = ctx.node
    if not actor.inbox:
        raise Ignore(f"{actor.iri} has no inbox to answer")
    if ref(activity.object) != node.actor_iri:
        group = await group_actors.group_named(conn, node, ref(activity.object))
        if group is None:
            raise Ignore(f"a follow of {ref(activity.object)}, not of this node")
        # Groups take every follower that is not blocked (their assets are public anyway).
        state = follows.REJECTED if ctx.blocked(actor.host) else follows.ACCEPTED
        await group_actors.answer_follow(conn, node, group, activity.body, actor, state)
        return f"follow of group {group.slug} {state}"
    if ctx.blocked(actor.host):
        state = follows.REJECTED
    elif node.settings.federation.manually_approves_followers and not ctx.is_partner(actor.host):
        state = follows.PENDING
    else:
        state = follows.ACCEPTED
    await follows.record_follower(conn, actor, activity.body["id"], state)
    if state != follows.PENDING:
        await answer_follow(conn, node, activity.body, actor.inbox, state)
    return f"follow {state}"


async def on_undo_follow(
    ctx: InboxContext, conn: AsyncConnection, activity: Activity, _: Any
) -> str:
    undone = activity.object
    if isinstance(undone, dict):
        # An embedded Follow must be the sender's own Follow of this node; then it is the
        # follow, whatever id the sender gave it this time.
        if ref(undone.get("actor")) != activity.actor:
            raise Ignore("an Undo of somebody else's Follow")
        group = await group_actors.group_named(
            conn, ctx.node, ref(undone.get("object")), moved_too=True
        )
        if group is not None:
            removed = await group_actors.remove_follower(conn, activity.actor, group_id=group.id)
            return "group follower removed" if removed else "not a follower: nothing undone"
        if ref(undone.get("object")) != ctx.node.actor_iri:
            raise Ignore(f"an Undo of a Follow of {ref(undone.get('object'))}, not of this node")
        removed = await follows.remove_follower(conn, activity.actor, ref(undone))
        if not removed:
            removed = await follows.remove_follower(conn, activity.actor)
    else:
        # A bare IRI is only known to be the Follow if it is the one we recorded: an Undo of
        # a Like or an Announce, or of any other IRI, leaves the follow alone.
        removed = await follows.remove_follower(conn, activity.actor, ref(undone))
        if not removed:
            removed = await group_actors.remove_follower(
                conn, activity.actor, follow_id=ref(undone)
            )
    return "follower removed" if removed else "not a follow of this actor's: nothing undone"


async def _answered(
    ctx: InboxContext, conn: AsyncConnection, activity: Activity, state: str
) -> str:
    answered_follow = activity.object
    if isinstance(answered_follow, dict) and (
        ref(answered_follow.get("actor")) not in (None, ctx.node.actor_iri)
        or ref(answered_follow.get("object")) not in (None, activity.actor)
    ):
        raise Ignore(f"{activity.type} of a Follow that is not ours of {activity.actor}")
    row = await follows.answer_following(conn, activity.actor, ref(activity.object), state)
    if row is None:
        raise Ignore(f"{activity.type} of a follow we did not ask {activity.actor} for")
    if state == follows.ACCEPTED:
        for hook in ctx.on_following_accepted:
            await hook(conn, activity.actor)
    return f"our follow of {activity.actor} {state}"


async def on_accept(ctx: InboxContext, conn: AsyncConnection, activity: Activity, _: Any) -> str:
    return await _answered(ctx, conn, activity, follows.ACCEPTED)


async def on_reject(ctx: InboxContext, conn: AsyncConnection, activity: Activity, _: Any) -> str:
    return await _answered(ctx, conn, activity, follows.REJECTED)


async def answer_follow(
    conn: AsyncConnection, node: NodeIdentity, follow: dict[str, Any], inbox: str, state: str
) -> None:
    """Send Accept or Reject of a Follow (durably, with this transaction)."""
    build = activities.accept if state == follows.ACCEPTED else activities.reject
    answer = build(id=node.new_activity_id(), actor=node.actor_iri, object=follow)
    await publish(conn, answer, [inbox], public=False)
