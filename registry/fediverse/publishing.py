"""Asset changes become activities: Create, Update, Delete (with a Tombstone).

A listener of the asset service, so it runs inside the transaction that changes the asset:
the activity and its deliveries are stored with the change, or neither is.

Who receives what follows `registry.catalog.visibility`: the node's followers get every asset they
may see (all of them for public and unlisted ones, only partner nodes for partners-only
ones, nobody for group-only ones), as activities of the node actor. The followers of the
asset's group get the same change as an activity of the group actor, signed with its key,
unless the inbox already gets the node's (one server, one copy). Those who could see an
asset before a change and cannot after it get a Delete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from federation import activities
from federation.follows import ACCEPTED
from federation.outbox import publish
from federation.tables import followers
from registry.catalog import addressing as rule
from registry.catalog.asset_changes import AssetChange
from registry.core.schema import groups
from registry.fediverse import group_actors
from registry.fediverse.identity import NodeIdentity


def asset_activity(
    node: NodeIdentity,
    change: AssetChange,
    *,
    actor: str | None = None,
    action: str | None = None,
) -> dict:
    """The change as an activity of `actor` (the node by default), addressed like the
    document (`to`/`cc` say its visibility to servers that read them)."""
    action = action or change.action
    document = dict(change.document)
    addressed = {"to": document.get("to", [activities.PUBLIC]), "cc": document.get("cc", [])}
    common = {
        "id": node.new_activity_id(),
        "actor": actor or node.actor_iri,
        **addressed,
        "published": change.at,
    }
    if action == "delete":
        return activities.delete(
            object_iri=change.iri, former_type="Page", deleted=change.at, **common
        )
    if actor is not None and actor != node.actor_iri:
        # Sent by the group actor: attributed to it (servers require the sender), without
        # the node's proof, which covers the document as the node attributes it.
        document["attributedTo"] = actor
        document.pop("proof", None)
    context = document.pop("@context")
    build = activities.create if action == "create" else activities.update
    return build(object=document, context=context, **common)


@dataclass(frozen=True)
class Readers:
    """The inboxes that get a change: the node's followers', and the group's others'."""

    node: frozenset[str]
    group: frozenset[str]


class Publisher:
    """Turns the node's own asset changes into outbox activities for its followers."""

    def __init__(
        self, node: NodeIdentity, is_partner: Callable[[str], bool] = lambda host: False
    ) -> None:
        self.node = node
        self.is_partner = is_partner

    async def _node_followers(self, conn: AsyncConnection) -> list[tuple[str, str]]:
        rows = await conn.execute(
            select(followers.c.host, func.coalesce(followers.c.shared_inbox, followers.c.inbox))
            .where(followers.c.state == ACCEPTED)
            .distinct()
        )
        return [(row[0], row[1]) for row in rows]

    async def readers(
        self, conn: AsyncConnection, visibility: str | None, group_id: int | None
    ) -> Readers:
        """Who may receive an asset with this visibility (None: nobody had it)."""
        if visibility is None or not rule.delivered_to_partners(visibility):
            return Readers(frozenset(), frozenset())
        everyone = rule.delivered_to_followers(visibility)
        node_inboxes = frozenset(
            inbox
            for host, inbox in await self._node_followers(conn)
            if everyone or self.is_partner(host)
        )
        group_inboxes: frozenset[str] = frozenset()
        if everyone and group_id is not None:
            group_inboxes = (
                frozenset(await group_actors.follower_inboxes(conn, group_id)) - node_inboxes
            )
        return Readers(node_inboxes, group_inboxes)

    async def on_change(self, conn: AsyncConnection, change: AssetChange) -> None:
        if not change.published:
            return
        if change.source == "import" and not self.node.settings.federation.push_imports:
            return
        if not rule.delivered_to_partners(change.visibility) and change.was is None:
            return  # never federated, and still not: nothing to tell anyone
        now = await self.readers(conn, change.visibility, change.group_id)
        before = await self.readers(conn, change.was, change.group_id)
        if change.action == "delete":
            now, before = before, Readers(frozenset(), frozenset())
        listed = rule.delivered_to_followers(change.visibility)
        await self._send(conn, change, None, now.node, before.node, listed)
        if change.group_id is None or not (listed or before.group):
            return
        slug = (
            await conn.execute(select(groups.c.slug).where(groups.c.id == change.group_id))
        ).scalar()
        if slug is not None:
            await self._send(conn, change, (change.group_id, slug), now.group, before.group, listed)

    async def _send(
        self,
        conn: AsyncConnection,
        change: AssetChange,
        group: tuple[int, str] | None,
        now: frozenset[str],
        before: frozenset[str],
        listed: bool,
    ) -> None:
        """The change to those who may see it (a Create to those who could not before), and
        a Delete to those who no longer may. The main activity is stored even with nobody to
        send it to: it is what the outbox lists."""
        actor = group_actors.group_iri(self.node.base, group[1]) if group else None
        main = change.action
        sends: list[tuple[str, frozenset[str], bool]] = []
        if main == "update":
            sends.append(("update", now & before, listed))
            sends.append(("create", now - before, False))
        else:
            sends.append((main, now, listed))
        sends.append(("delete", before - now if main != "delete" else frozenset(), False))
        federated = rule.delivered_to_partners(change.visibility)
        for action, targets, public in sends:
            if not targets and not (action == main and federated):
                continue
            activity = asset_activity(self.node, change, actor=actor, action=action)
            if group is None:
                await publish(conn, activity, sorted(targets), public=public)
            elif targets or public:
                await group_actors.publish_as_group(
                    conn, group[0], activity, sorted(targets), listed=public
                )
