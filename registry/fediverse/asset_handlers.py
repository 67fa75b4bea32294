"""What the node does with partners' asset activities: Create, Update, Delete, Announce.
Each handler is a named function; `registry.fediverse.handler_table` registers them."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from federation import activities, follows
from federation.dispatch import Activity, Ignore, Retry
from federation.fetch_errors import is_permanent
from federation.fetcher import FetchError
from federation.hosts import InvalidHost, host_of
from federation.inbox import ref
from federation.outbox import publish
from federation.tables import followers
from federation.transactions import read, remembered
from registry.catalog import addressing
from registry.fediverse.copy_reading import CopyRefused, RemoteCopy, is_commons_asset
from registry.fediverse.inbox_context import InboxContext
from registry.fediverse.mirror import COPY_OUTCOMES, apply_delete, check_copy, store_copies

log = logging.getLogger("registry.fediverse.mirror")


async def partner_first(ctx: InboxContext, activity: Activity) -> None:
    """Authorise before any fetch or proof check: only followed partners' copies count."""
    if ctx.seen_as_partner(activity.actor):
        return
    async with read(ctx.directory.engine) as conn:
        await require_partner(conn, activity.actor)
    ctx.saw_partner(activity.actor)


async def embedded_copy(ctx: InboxContext, activity: Activity) -> RemoteCopy:
    """Prepare a Create or Update: the embedded asset, checked (origin host, proof)."""
    await partner_first(ctx, activity)
    obj = activity.standalone_object()
    if not isinstance(obj, dict):
        raise Ignore("the asset must be embedded in the activity")
    try:
        return await check_copy(obj, from_host=activity.host, directory=ctx.directory)
    except CopyRefused as exc:
        raise Ignore(str(exc)) from None


async def on_partner_copy(
    ctx: InboxContext, conn: AsyncConnection, activity: Activity, copy: RemoteCopy
) -> str:
    """A partner's Create or Update of its asset, or an Announce of one: store the copy."""
    (outcome,) = await on_partner_copies(ctx, conn, [(activity, copy)])
    if isinstance(outcome, Ignore):
        raise outcome
    return outcome


async def on_partner_copies(
    ctx: InboxContext, conn: AsyncConnection, items: list[tuple[Activity, RemoteCopy]]
) -> list[str | Ignore]:
    """`on_partner_copy` for a run of activities: the copies stored in one batch."""
    outcomes: list[str | Ignore] = []
    copies: list[RemoteCopy] = []
    for activity, copy in items:
        try:
            await require_partner(conn, activity.actor)
        except Ignore as refused:
            outcomes.append(refused)
            continue
        outcomes.append("")
        copies.append(copy)
    stored = iter(zip(copies, await store_copies(conn, copies), strict=True))
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, Ignore):
            continue
        copy, what = next(stored)
        outcomes[index] = COPY_OUTCOMES[what]
        if what in ("created", "updated"):
            await reshare(ctx, conn, copy)
    return outcomes


async def on_delete(ctx: InboxContext, conn: AsyncConnection, activity: Activity, _: Any) -> str:
    iri = ref(activity.object)
    if iri is None or iri == activity.actor:
        raise Ignore("a Delete of an actor or of nothing")
    await require_partner(conn, activity.actor)
    try:
        result, _changed = await apply_delete(conn, iri, from_host=activity.host)
    except (CopyRefused, InvalidHost) as exc:  # InvalidHost: the object is not a URL
        raise Ignore(str(exc)) from None
    return result


async def fetched_copy(ctx: InboxContext, activity: Activity) -> RemoteCopy:
    """Prepare an Announce: trust its object only as its origin serves it (or proves it)."""
    directory = ctx.directory
    obj, iri = activity.standalone_object(), ref(activity.object)
    if iri is None:
        raise Ignore("an Announce of nothing")
    await partner_first(ctx, activity)
    try:
        origin = host_of(iri)
    except InvalidHost as exc:
        raise Ignore(f"an Announce of an unusable id: {exc}") from None
    if origin == host_of(ctx.node.base):
        raise Ignore("an Announce of our own asset")
    if isinstance(obj, dict) and "proof" in obj:
        try:
            copy = await check_copy(obj, from_host=origin, directory=directory)
            if copy.proof_checked:
                return copy
        except CopyRefused:
            pass  # fall back to the origin's own copy
    try:
        fetched = await directory.failures.fetch(directory.fetcher, iri)
    except FetchError as exc:
        if is_permanent(exc):  # gone, or not a document we read: asking again won't help
            raise Ignore(f"{iri} cannot be used from its origin: {exc}") from None
        raise Retry(f"fetching {iri}: {exc}") from None
    if not is_commons_asset(fetched.data):
        raise Ignore(f"{iri} is not a commons asset")
    try:
        return await check_copy(
            fetched.data, from_host=host_of(fetched.url_final), directory=directory
        )
    except CopyRefused as exc:
        raise Ignore(str(exc)) from None


async def reshare(ctx: InboxContext, conn: AsyncConnection, copy: RemoteCopy) -> None:
    """Announce a partner's new or changed asset to our followers (never to its origin)."""
    node = ctx.node
    if not node.settings.mirror.reshare:
        return
    if not addressing.delivered_to_followers(addressing.of_document(copy.document)):
        return  # a partners-only copy stays on this node

    async def ask() -> list[str]:
        rows = await conn.execute(
            select(func.coalesce(followers.c.shared_inbox, followers.c.inbox))
            .where(followers.c.state == follows.ACCEPTED, followers.c.host != copy.origin)
            .distinct()
        )
        return [row[0] for row in rows]

    inboxes = await remembered(conn, ("reshare to", copy.origin), ask)
    if not inboxes:
        return
    share = activities.announce(
        id=node.new_activity_id(),
        actor=node.actor_iri,
        object=copy.meta.iri,
        to=[activities.PUBLIC],
        cc=[node.followers],
    )
    await publish(conn, share, inboxes, public=True)


async def require_partner(conn: AsyncConnection, actor: str) -> None:
    """Copies come only from nodes this node follows (asked once per actor in a batch)."""

    async def ask() -> bool:
        row = await follows.get_following(conn, actor)
        return row is not None and row.state == follows.ACCEPTED

    if not await remembered(conn, ("partner", actor), ask):
        raise Ignore(f"{actor} is not a partner this node follows")
