"""A short-lived in-process cache of published asset documents, for the hottest read of a
federated registry: GET /assets/{id} as JSON-LD (every server that sees an asset announced
fetches it, within seconds of each other).

Only the bytes of a local, published, live document are kept. Every change this process
commits clears the cache (AssetService.committed); a change committed by another process (a
second web worker, `commons-registry import`) is seen after at most `ttl` seconds, as an HTTP
cache with that max-age would show it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

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
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def get(self, uid: str) -> bytes | None:
        found = self._items.get(uid)
        if found is None:
            return None
        if found[0] < self.clock():
            del self._items[uid]
            return None
        self._items.move_to_end(uid)
        return found[1]

    def put(self, uid: str, body: bytes) -> None:
        if self.ttl <= 0:
            return
        self._items[uid] = (self.clock() + self.ttl, body)
        self._items.move_to_end(uid)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
