"""Every activity the node handles, in one table: type, object test, prepare, apply.

`prepare` runs outside any transaction (fetches); `apply` runs in the transaction that marks
the activity done (`federation.dispatch`). Handlers are named module-level functions taking the
process's `InboxContext` first; the table binds it once. The domain-block rule is a guard,
applied to every activity before its handler (`registry.fediverse.blocks.BlockGuard`).
"""

from __future__ import annotations

from functools import partial

from federation.handlers import Guard, Handler, Handlers
from registry.fediverse import asset_handlers as assets
from registry.fediverse import follow_handlers as follows
from registry.fediverse import move_handlers as moves
from registry.fediverse.copy_reading import is_commons_asset
from registry.fediverse.inbox_context import InboxContext

# (activity type, apply, object test, prepare); handlers with an object test are tried first.
TABLE = [
    ("Follow", follows.on_follow, None, follows.fetch_actor),
    ("Undo", follows.on_undo_follow, follows.is_follow, None),
    ("Accept", follows.on_accept, follows.is_follow, None),
    ("Reject", follows.on_reject, follows.is_follow, None),
    ("Update", follows.on_actor_update, None, follows.refetch_actor),
    ("Create", assets.on_partner_copy, is_commons_asset, assets.embedded_copy),
    ("Update", assets.on_partner_copy, is_commons_asset, assets.embedded_copy),
    ("Delete", assets.on_delete, None, None),
    ("Announce", assets.on_partner_copy, None, assets.fetched_copy),
    ("Move", moves.on_move, moves.names_an_object, moves.verified_move),
]
# Handlers that also apply a run of activities at once (`Handler.apply_many`).
APPLY_MANY = {assets.on_partner_copy: assets.on_partner_copies}


def build_handlers(ctx: InboxContext, guards: list[Guard]) -> Handlers:
    """The table with this process's context bound, behind the guards."""
    handlers = Handlers(guards=list(guards))
    # One bound function per bulk handler: Creates and Updates of copies share their runs.
    many = {apply: partial(bulk, ctx) for apply, bulk in APPLY_MANY.items()}
    for activity_type, apply, object_match, prepare in TABLE:
        handlers.add(
            Handler(
                activity_type,
                partial(apply, ctx),
                object_match,
                partial(prepare, ctx) if prepare else None,
                many.get(apply),
            )
        )
    return handlers
