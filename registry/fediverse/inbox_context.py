"""What the inbox handlers work with: the node, the actor directory and the node's rules.

Built once per process (`registry.fediverse.federation`); every handler in
`registry.fediverse.handler_table` receives it as its first argument.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from federation.actors import ActorDirectory
from registry.fediverse.identity import NodeIdentity

FollowAccepted = Callable[[AsyncConnection, str], Awaitable[None]]


@dataclass
class InboxContext:
    node: NodeIdentity
    directory: ActorDirectory
    blocked: Callable[[str], bool]  # refused: a blocked domain, or a non-partner in allowlist mode
    is_partner: Callable[[str], bool]
    # Run in the transaction that records a partner's Accept of our Follow (starts a sync).
    on_following_accepted: list[FollowAccepted] = field(default_factory=list)
