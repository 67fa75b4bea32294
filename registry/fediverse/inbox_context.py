"""What the inbox handlers work with: the node, the actor directory and the node's rules.

Built once per process (`registry.fediverse.federation`); every handler in
`registry.fediverse.handler_table` receives it as its first argument.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from federation.actors import ActorDirectory
from registry.fediverse.identity import NodeIdentity

PARTNER_SEEN_SECONDS = 1.0
FollowAccepted = Callable[[AsyncConnection, str], Awaitable[None]]


@dataclass
class InboxContext:
    node: NodeIdentity
    directory: ActorDirectory
    blocked: Callable[[str], bool]  # refused: a blocked domain, or a non-partner in allowlist mode
    is_partner: Callable[[str], bool]
    # Run in the transaction that records a partner's Accept of our Follow (starts a sync).
    on_following_accepted: list[FollowAccepted] = field(default_factory=list)
    # Actors found to be partners in the last second, by `prepare` (which only spares a fetch
    # for a stranger's copy: `apply` checks again, in its transaction).
    partners_seen: dict[str, float] = field(default_factory=dict)

    def seen_as_partner(self, actor: str) -> bool:
        until = self.partners_seen.get(actor)
        return until is not None and until > time.monotonic()

    def saw_partner(self, actor: str) -> None:
        if len(self.partners_seen) > 10_000:
            self.partners_seen.clear()
        self.partners_seen[actor] = time.monotonic() + PARTNER_SEEN_SECONDS
