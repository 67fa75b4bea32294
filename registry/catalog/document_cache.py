"""An in-process cache of published asset documents, for the hottest read of a federated
registry: GET /assets/{id} as JSON-LD (every server that sees an asset announced fetches it,
within seconds of each other).

Only the bytes of a local, published, live document are kept, and only while the catalog
has not changed: every change this process commits clears the cache at once
(AssetService.committed), and every `ttl` seconds at most one request asks the database for
the catalog's version, `max(change_seq)`, which every write that changes what is published
moves (the rule the search facets and the map layer follow too); a new version empties the
cache. So a change committed by another process (a second web worker, `commons-registry
import`) is seen within `ttl` seconds, as before, while an unchanged document is read from
the database once, not once per `ttl` (one query per `ttl` instead of one per document).

A document read from the database is kept only if nothing cleared the cache since the read
began (`token`), so a read that raced a change never brings the old bytes back.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

TTL_SECONDS = 5.0
MAX_DOCUMENTS = 4096  # about 2 KB each: a few MB at most


class DocumentCache:
    def __init__(
        self,
        ttl: float = TTL_SECONDS,
        max_items: int = MAX_DOCUMENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl, self.max_items, self.clock = ttl, max_items, clock
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._version: int | None = None
        self._checked_at = float("-inf")
        self._generation = 0
        self._checking = asyncio.Lock()

    async def revalidate(self, read_version: Callable[[], Awaitable[int]]) -> None:
        """Ask for the catalog's version if `ttl` has passed since the last answer; a new
        one clears. One request asks; the others wait for its answer (serving what is kept
        meanwhile could be older than `ttl`)."""
        if self.ttl <= 0 or self.clock() < self._checked_at + self.ttl:
            return
        async with self._checking:
            if self.clock() < self._checked_at + self.ttl:
                return  # answered while this request waited
            version = await read_version()
            if version != self._version:
                self.clear()
                self._version = version
            self._checked_at = self.clock()

    def token(self) -> int:
        """Taken before reading a document from the database, handed back to `put`."""
        return self._generation

    def get(self, uid: str) -> bytes | None:
        found = self._items.get(uid)
        if found is not None:
            self._items.move_to_end(uid)
        return found

    def put(self, uid: str, body: bytes, token: int) -> None:
        if self.ttl <= 0 or token != self._generation:
            return  # off, or the catalog changed while this document was being read
        self._items[uid] = body
        self._items.move_to_end(uid)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()
        self._generation += 1

    def __len__(self) -> int:
        return len(self._items)
