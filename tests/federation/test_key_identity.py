"""A key id belongs to exactly one actor, on that actor's host (Misskey's and Mastodon
CVE-2024-23832's lesson): an actor document that lists someone else's key id can neither
take the key over, shadow it, nor lock its owner out; and stored keys have an age.

Real parts: the database from the suite's fixtures, actors served over HTTP on two
127.0.0.1 servers (two hosts: the port is part of the host), the real `SafeFetcher`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from federation import keys
from federation.actors import ActorDirectory
from federation.fetcher import SafeFetcher
from federation.tables import remote_keys
from tests.federation.httpserver import LocalServer, Request, respond_json
from tests.federation.test_key_cache import Peer, same


class Claimer:
    """An attacker's actor that lists `claimed` key ids with its own key."""

    def __init__(self, server: LocalServer, path: str, key: Any, claimed: list[str]) -> None:
        self.iri = server.url(path)
        self.key = key
        self.claimed = claimed
        self.server = server
        server.route(path)(self._serve)

    async def _serve(self, request: Request, writer) -> None:
        pem = keys.public_key_to_pem(self.key.public_key())
        await respond_json(
            writer,
            {
                "id": self.iri,
                "type": "Person",
                "inbox": self.server.url("/inbox"),
                "publicKey": [
                    {"id": key_id, "owner": self.iri, "publicKeyPem": pem}
                    for key_id in self.claimed
                ],
            },
        )


@pytest.fixture
async def fetcher(server: LocalServer, second_server: LocalServer) -> AsyncIterator[SafeFetcher]:
    hosts = {f"127.0.0.1:{server.port}", f"127.0.0.1:{second_server.port}"}
    async with SafeFetcher(allow_http=True, allowed_hosts=hosts) as made:
        yield made


async def owners(engine, key_id: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(remote_keys.c.owner).where(remote_keys.c.key_id == key_id))
        return [row.owner for row in rows]


async def test_a_key_id_on_another_host_is_never_taken(
    engine, fetcher, server, second_server, rsa_key, other_rsa_key
) -> None:
    victim = Peer(server, rsa_key)
    attacker = Claimer(second_server, "/evil", other_rsa_key, [victim.key_id()])
    directory = ActorDirectory(engine, fetcher)
    # The attacker is known first: its claim on the victim's key id is not stored at all.
    await directory.get(attacker.iri)
    assert await owners(engine, victim.key_id()) == []
    info = await directory.resolve_key(victim.key_id(), False)
    assert same(info, rsa_key) and info is not None and info.owner == victim.iri


async def test_a_key_id_owned_by_another_actor_on_the_same_host_is_refused(
    engine, fetcher, server, rsa_key, other_rsa_key
) -> None:
    victim = Peer(server, rsa_key)
    # A GoToSocial-style key id (no fragment) that the victim owns first...
    gts_key = server.url("/keys/shared")
    victim.key_id = lambda n=0: gts_key  # type: ignore[method-assign]

    @server.route("/keys/shared")
    async def key_document(request: Request, writer) -> None:
        pem = keys.public_key_to_pem(victim.published[0].public_key())
        await respond_json(writer, {"id": gts_key, "owner": victim.iri, "publicKeyPem": pem})

    directory = ActorDirectory(engine, fetcher)
    await directory.get(victim.iri)
    assert await owners(engine, gts_key) == [victim.iri]
    # ... then a second actor on the same host lists it, and so does a fragment key id of
    # the victim's: neither claim is stored, and the victim's key still answers for it.
    attacker = Claimer(server, "/evil", other_rsa_key, [gts_key, f"{victim.iri}#key-0"])
    await directory.get(attacker.iri)  # no uniqueness error escapes
    await directory.get(attacker.iri, refresh=True)
    assert await owners(engine, gts_key) == [victim.iri]
    assert await owners(engine, f"{victim.iri}#key-0") == []
    for refresh in (False, True):
        info = await ActorDirectory(engine, fetcher).resolve_key(gts_key, refresh)
        assert same(info, rsa_key) and info is not None and info.owner == victim.iri
    # The owner itself still rotates its key under the same id.
    victim.published = [other_rsa_key]
    info = await directory.resolve_key(gts_key, True)
    assert same(info, other_rsa_key) and info is not None and info.owner == victim.iri


async def test_a_stored_key_past_its_age_is_refetched(
    engine, fetcher, server, rsa_key, other_rsa_key
) -> None:
    peer = Peer(server, rsa_key)
    await ActorDirectory(engine, fetcher).get(peer.iri)
    peer.published = [other_rsa_key]
    fresh_enough = ActorDirectory(engine, fetcher)
    assert same(await fresh_enough.resolve_key(peer.key_id(), False), rsa_key)
    assert peer.fetches == 1
    aged = ActorDirectory(engine, fetcher, key_max_age=timedelta(0))
    assert same(await aged.resolve_key(peer.key_id(), False), other_rsa_key)
    assert peer.fetches == 2


async def test_a_key_document_id_on_another_host_is_never_taken(
    engine, fetcher, server, second_server, other_rsa_key
) -> None:
    # A GoToSocial-style key id (no fragment) of another host, claimed first by an attacker.
    foreign_key = server.url("/users/victim/main-key")
    attacker = Claimer(second_server, "/evil", other_rsa_key, [foreign_key])
    directory = ActorDirectory(engine, fetcher)
    await directory.get(attacker.iri)
    assert await owners(engine, foreign_key) == []
    assert directory.key_cache.get(foreign_key) is None
