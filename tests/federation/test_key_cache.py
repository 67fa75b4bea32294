"""`ActorDirectory.resolve_key` keeps parsed keys in the process: a busy peer's requests (and
every asset of a backfill) cost no database read and no refetch, while a failed verification
(`refresh=True`) still refetches the actor, so key rotation keeps working.

Real parts: the database from the suite's fixtures, actors served over HTTP on 127.0.0.1, the
real `SafeFetcher`. Database reads are counted with a SQLAlchemy cursor event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from federation import keys
from federation.actors import ActorDirectory, KeyCache
from federation.fetcher import SafeFetcher
from tests.federation.httpserver import LocalServer, Request, respond_json


class Peer:
    """An actor on the local server whose published keys a test can change (rotation)."""

    def __init__(self, server: LocalServer, *published: rsa.RSAPrivateKey) -> None:
        self.server = server
        self.iri = server.url("/actor")
        self.published = list(published)
        server.route("/actor")(self._serve)

    def key_id(self, n: int = 0) -> str:
        return f"{self.iri}#key-{n}"

    def document(self) -> dict[str, Any]:
        return {
            "id": self.iri,
            "type": "Service",
            "inbox": self.server.url("/inbox"),
            "publicKey": [
                {
                    "id": self.key_id(n),
                    "owner": self.iri,
                    "publicKeyPem": keys.public_key_to_pem(key.public_key()),
                }
                for n, key in enumerate(self.published)
            ],
        }

    async def _serve(self, request: Request, writer) -> None:
        await respond_json(writer, self.document())

    @property
    def fetches(self) -> int:
        return sum(1 for r in self.server.requests if r.path == "/actor")


class KeyReads:
    """Counts the statements that read `remote_keys` on an engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.count = 0

    def _seen(self, conn, cursor, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "remote_keys" in statement:
            self.count += 1

    def __enter__(self) -> KeyReads:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


@pytest.fixture
async def fetcher(server: LocalServer) -> AsyncIterator[SafeFetcher]:
    async with SafeFetcher(allow_http=True, allowed_hosts={f"127.0.0.1:{server.port}"}) as made:
        yield made


@pytest.fixture
def key_reads(engine: AsyncEngine) -> Iterator[KeyReads]:
    with KeyReads(engine) as reads:
        yield reads


def same(info: keys.PublicKeyInfo | None, key: rsa.RSAPrivateKey) -> bool:
    return info is not None and keys.same_public_key(info.public_key, key.public_key())


async def test_a_fetched_key_is_served_from_memory(
    engine, fetcher, server, key_reads, rsa_key
) -> None:
    peer = Peer(server, rsa_key)
    directory = ActorDirectory(engine, fetcher)
    first = await directory.resolve_key(peer.key_id(), False)
    assert same(first, rsa_key) and first is not None and first.owner == peer.iri
    reads_after_first = key_reads.count
    for _ in range(20):
        assert same(await directory.resolve_key(peer.key_id(), False), rsa_key)
    assert peer.fetches == 1
    assert key_reads.count == reads_after_first  # no database read after the first


async def test_a_stored_key_is_read_from_the_database_once(
    engine, fetcher, server, key_reads, rsa_key
) -> None:
    peer = Peer(server, rsa_key)
    await ActorDirectory(engine, fetcher).get(peer.iri)  # another process stored it
    directory = ActorDirectory(engine, fetcher)  # ... and this one starts cold
    key_reads.count = 0
    for _ in range(20):
        assert same(await directory.resolve_key(peer.key_id(), False), rsa_key)
    assert key_reads.count == 1
    assert peer.fetches == 1


async def test_rotation_refetches_and_replaces_the_cached_key(
    engine, fetcher, server, key_reads, rsa_key, other_rsa_key
) -> None:
    peer = Peer(server, rsa_key)
    directory = ActorDirectory(engine, fetcher)
    assert same(await directory.resolve_key(peer.key_id(), False), rsa_key)
    peer.published = [other_rsa_key]  # the peer rotates its key under the same id
    # Until a signature fails, the old key is what we know.
    assert same(await directory.resolve_key(peer.key_id(), False), rsa_key)
    assert peer.fetches == 1
    # A failed verification asks again with refresh=True: the cache must not answer it.
    assert same(await directory.resolve_key(peer.key_id(), True), other_rsa_key)
    assert peer.fetches == 2
    # From then on the new key comes from memory, and the database holds it too.
    reads = key_reads.count
    assert same(await directory.resolve_key(peer.key_id(), False), other_rsa_key)
    assert key_reads.count == reads and peer.fetches == 2
    cold = ActorDirectory(engine, fetcher)
    assert same(await cold.resolve_key(peer.key_id(), False), other_rsa_key)
    assert peer.fetches == 2


async def test_a_key_the_actor_dropped_leaves_the_cache(
    engine, fetcher, server, rsa_key, other_rsa_key
) -> None:
    peer = Peer(server, rsa_key, other_rsa_key)
    directory = ActorDirectory(engine, fetcher)
    assert same(await directory.resolve_key(peer.key_id(0), False), rsa_key)
    assert same(await directory.resolve_key(peer.key_id(1), False), other_rsa_key)
    peer.published = [other_rsa_key]  # key-0 withdrawn; key-1 is now key-0's id
    await directory.get(peer.iri, refresh=True)  # e.g. the actor was refreshed on Update
    # The cache follows what was stored: key-0 is now the other key, key-1 is gone.
    assert same(await directory.resolve_key(peer.key_id(0), False), other_rsa_key)
    assert await directory.resolve_key(peer.key_id(1), False) is None


async def test_entries_expire(engine, fetcher, server, key_reads, rsa_key) -> None:
    peer = Peer(server, rsa_key)
    directory = ActorDirectory(engine, fetcher)
    directory.key_cache = KeyCache(ttl=0.0)  # every entry is already stale
    await directory.resolve_key(peer.key_id(), False)
    key_reads.count = 0
    for _ in range(3):
        assert same(await directory.resolve_key(peer.key_id(), False), rsa_key)
    assert key_reads.count == 3
    assert peer.fetches == 1


def test_the_cache_is_bounded_and_least_recently_used_goes_first(rsa_key) -> None:
    cache = KeyCache(size=2, ttl=60)
    a, b, c = (keys.PublicKeyInfo(f"k{n}", "o", rsa_key.public_key()) for n in "abc")
    cache.put(a)
    cache.put(b)
    assert cache.get("ka") is a  # a is now the most recently used
    cache.put(c)
    assert len(cache) == 2
    assert cache.get("kb") is None
    assert cache.get("ka") is a and cache.get("kc") is c
