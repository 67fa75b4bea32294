"""The in-memory cache of asset documents behind GET /assets/{id} as JSON-LD: a hit costs no
database round trip, a change committed by this process is served at once, and one committed
elsewhere (it moves the catalog version) within the cache's ttl."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from registry.catalog.document_cache import DocumentCache
from tests.registry.test_assets_api import create

JSONLD = {"Accept": "application/activity+json"}


def test_the_least_recently_used_go_first_and_a_cache_that_is_off_keeps_nothing() -> None:
    cache = DocumentCache(ttl=5, max_items=2)
    cache.put("a", b"A", cache.token())
    cache.put("b", b"B", cache.token())
    assert cache.get("a") == b"A"  # now "b" is the least recently used
    cache.put("c", b"C", cache.token())
    assert cache.get("b") is None and cache.get("c") == b"C" and len(cache) == 2
    off = DocumentCache(ttl=0)
    off.put("a", b"A", off.token())
    assert off.get("a") is None


async def test_documents_stay_until_the_catalog_version_moves_asked_once_per_ttl() -> None:
    now, version, asked = [0.0], [7], []

    async def read_version() -> int:
        asked.append(now[0])
        return version[0]

    cache = DocumentCache(ttl=5, clock=lambda: now[0])
    await cache.revalidate(read_version)
    cache.put("a", b"A", cache.token())
    now[0] = 4.9
    version[0] = 8  # another process changed the catalog: not seen before the ttl is up
    await cache.revalidate(read_version)
    assert cache.get("a") == b"A" and asked == [0.0]
    now[0] = 5.0
    await cache.revalidate(read_version)
    assert cache.get("a") is None and asked == [0.0, 5.0]
    cache.put("a", b"A2", cache.token())
    now[0] = 60.0  # an unchanged catalog keeps its documents however long
    await cache.revalidate(read_version)
    assert cache.get("a") == b"A2" and asked == [0.0, 5.0, 60.0]


async def test_requests_that_arrive_during_a_check_wait_for_its_answer() -> None:
    """After the ttl, nobody is served from the cache until the version has been asked:
    the one request that asks and the others that came meanwhile all see the change."""
    now, asked = [0.0], []
    answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def slow_version() -> int:
        asked.append(now[0])
        return await answer

    cache = DocumentCache(ttl=5, clock=lambda: now[0])
    answer.set_result(1)
    await cache.revalidate(slow_version)
    cache.put("a", b"old", cache.token())
    now[0] = 6.0
    answer = asyncio.get_running_loop().create_future()

    async def request() -> bytes | None:
        await cache.revalidate(slow_version)
        return cache.get("a")

    waiting = [asyncio.create_task(request()) for _ in range(5)]
    await asyncio.sleep(0)
    assert not any(task.done() for task in waiting)
    answer.set_result(2)  # the catalog changed
    assert await asyncio.gather(*waiting) == [None] * 5
    assert asked == [0.0, 6.0]


def test_a_read_that_raced_a_change_is_not_kept() -> None:
    cache = DocumentCache(ttl=5)
    token = cache.token()  # a request starts reading the old document...
    cache.clear()  # ...while this process commits a change
    cache.put("a", b"old", token)
    assert cache.get("a") is None


async def test_hits_skip_the_database_and_changes_show_at_once(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    asset = await create(client, group_token)
    first = await client.get(asset["iri"], headers=JSONLD)
    assert first.status_code == 200
    cache: DocumentCache = client._transport.app.state.runtime.documents  # type: ignore[attr-defined]
    assert cache.get(asset["id"]) == first.content
    cache.put(asset["id"], b'{"served": "from memory"}', cache.token())
    assert (await client.get(asset["iri"], headers=JSONLD)).json() == {"served": "from memory"}

    changed = await client.patch(
        f"/api/assets/{asset['id']}", json={"summary": "Changed"}, headers=auth(group_token)
    )
    assert changed.status_code == 200
    assert (await client.get(asset["iri"], headers=JSONLD)).json()["abstract"] == "Changed"
    await client.delete(f"/api/assets/{asset['id']}", headers=auth(group_token))
    assert (await client.get(asset["iri"], headers=JSONLD)).status_code == 410
