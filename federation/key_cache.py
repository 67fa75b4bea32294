"""Parsed public keys kept in the process, so that a busy peer's requests (and every asset of
a backfill) cost no database read or PEM parse. Bounded in size and age: another process that
refetched a rotated key is seen within the TTL, and a failed verification refetches at once
(the directory's `refresh=True` bypasses the cache)."""

from __future__ import annotations

import time
from collections import OrderedDict

from federation import keys

KEY_CACHE_SIZE = 4096
KEY_CACHE_SECONDS = 300.0


class KeyCache:
    """A bounded LRU of parsed public keys by key id, each entry good for `ttl` seconds."""

    def __init__(self, size: int = KEY_CACHE_SIZE, ttl: float = KEY_CACHE_SECONDS) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[str, tuple[float, keys.PublicKeyInfo]] = OrderedDict()

    def get(self, key_id: str) -> keys.PublicKeyInfo | None:
        entry = self._entries.get(key_id)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._entries[key_id]
            return None
        self._entries.move_to_end(key_id)
        return entry[1]

    def put(self, info: keys.PublicKeyInfo) -> None:
        self._entries[info.key_id] = (time.monotonic() + self.ttl, info)
        self._entries.move_to_end(info.key_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def replace_owner(self, owner: str, found: list[keys.PublicKeyInfo]) -> None:
        """The owner's keys are now exactly `found` (its actor was just fetched and stored)."""
        for key_id in [k for k, (_, info) in self._entries.items() if info.owner == owner]:
            del self._entries[key_id]
        for info in found:
            self.put(info)

    def __len__(self) -> int:
        return len(self._entries)
