"""Asset changes become activities: Create, Update, Delete (with a Tombstone).

A listener of the asset service, so it runs inside the transaction that changes the asset:
the activity and its deliveries are stored with the change, or neither is.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from federation import activities
from federation.follows import follower_inboxes
from federation.outbox import publish
from registry.catalog.assets import AssetChange
from registry.fediverse.identity import NodeIdentity


def asset_activity(node: NodeIdentity, change: AssetChange) -> dict:
    common = {
        "id": node.new_activity_id(),
        "actor": node.actor_iri,
        "to": [activities.PUBLIC],
        "cc": [node.followers],
        "published": change.at,
    }
    if change.action == "delete":
        return activities.delete(
            object_iri=change.iri, former_type="Page", deleted=change.at, **common
        )
    document = dict(change.document)
    context = document.pop("@context")
    build = activities.create if change.action == "create" else activities.update
    return build(object=document, context=context, **common)


class Publisher:
    """Turns the node's own asset changes into outbox activities for its followers."""

    def __init__(self, node: NodeIdentity) -> None:
        self.node = node

    async def on_change(self, conn: AsyncConnection, change: AssetChange) -> None:
        if not change.published:
            return
        if change.source == "import" and not self.node.settings.federation.push_imports:
            return
        inboxes = await follower_inboxes(conn)
        await publish(conn, asset_activity(self.node, change), inboxes, public=True)
