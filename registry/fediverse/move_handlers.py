"""What the node does with a `Move` of a partner's asset (FEP-7628 semantics, for objects).

A Move says: the object at `object` (the old IRI) now lives at `target`. It is believed when

1. it is authorised: the sender is the old IRI's own node (its HTTP signature), or the
   sender is the new node and carries as `instrument` a `commons:MoveAuthorization` signed
   with the old node's key, which we still hold from verifying its copies (a node that is
   gone cannot send a Move itself; portability.py, claims.py), naming the
   sender's node as the target; and
2. the target, fetched from its own host, is a valid asset whose proof verifies with its
   host's key and whose `alsoKnownAs` names the old IRI.

Then the copy held under the old IRI is re-keyed to the new one (moves.py). A Move
that fails any check changes nothing; the inbox records why.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from federation.actors import ActorError
from federation.dispatch import Activity, Ignore, Retry
from federation.fetch_errors import is_permanent
from federation.fetcher import FetchError
from federation.hosts import InvalidHost, host_of
from federation.inbox import ref
from federation.transactions import read
from registry.fediverse.asset_handlers import require_partner
from registry.fediverse.copy_reading import CopyRefused, RemoteCopy, on_host
from registry.fediverse.inbox_context import InboxContext
from registry.fediverse.portability import ArchiveError, check_authorization
from registry.fediverse.rekeying import rekey_copy, verified_target


def names_an_object(obj: Any) -> bool:
    """A Move of an object named by its IRI (not an actor's Move of itself)."""
    return isinstance(ref(obj), str)


async def verified_move(ctx: InboxContext, activity: Activity) -> tuple[str, RemoteCopy]:
    """Prepare a Move: authorised, and the target verified where it now lives."""
    async with read(ctx.directory.engine) as conn:  # authorise before any fetch
        await require_partner(conn, activity.actor)
    old, new = ref(activity.object), ref(activity.body.get("target"))
    if old is None or new is None:
        raise Ignore("a Move needs an object and a target")
    try:
        old_host, new_host = host_of(old), host_of(new)
    except InvalidHost as exc:
        raise Ignore(f"a Move with an unusable IRI: {exc}") from None
    if host_of(ctx.node.base) in (old_host, new_host):
        raise Ignore("a Move of this node's own assets is decided here, not by others")
    if activity.host != old_host:
        await authorised_by_old_key(ctx, activity, old_host, new_host)
    try:
        copy = await verified_target(ctx.directory, old, new)
    except FetchError as exc:
        if is_permanent(exc):
            raise Ignore(f"the Move's target {new} cannot be fetched: {exc}") from None
        raise Retry(f"fetching {new}: {exc}") from None
    except CopyRefused as exc:
        raise Ignore(str(exc)) from None
    return old, copy


async def authorised_by_old_key(
    ctx: InboxContext, activity: Activity, old_host: str, new_host: str
) -> None:
    if activity.host != new_host:
        raise Ignore(f"{activity.host} may not move assets of {old_host} to {new_host}")
    instrument = activity.body.get("instrument")
    if not isinstance(instrument, dict):
        raise Ignore(f"a Move sent by {new_host} needs the old node's signed authorization")
    method = instrument.get("proof", {}).get("verificationMethod")
    if not isinstance(method, str) or not on_host(method, old_host):
        raise Ignore("the authorization is not signed with a key of the old node")
    try:
        key = await ctx.directory.resolve_key(method, False)  # held; the old node may be gone
    except ActorError as exc:
        raise Ignore(f"the old node's key {method} is not known here: {exc}") from None
    if key is None:
        raise Ignore(f"the old node's key {method} is not known here")
    try:
        fields = check_authorization(instrument, key.public_key)
    except (ArchiveError, TypeError) as exc:
        raise Ignore(str(exc)) from None
    if not on_host(fields["origin"], old_host) or not on_host(fields["target"], new_host):
        raise Ignore("the authorization moves another node's assets, or to another node")


async def on_move(
    ctx: InboxContext, conn: AsyncConnection, activity: Activity, prepared: Any
) -> str:
    """Re-key the copy held under the old IRI to the new one."""
    await require_partner(conn, activity.actor)
    old, copy = prepared
    try:
        return await rekey_copy(conn, old, copy)
    except ArchiveError as exc:
        raise Ignore(str(exc)) from None
