"""The in-memory cache of asset documents behind GET /assets/{id} as JSON-LD: a hit costs no
database round trip, and a change committed by this process is served at once."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from registry.catalog.document_cache import DocumentCache
from tests.registry.test_assets_api import create

JSONLD = {"Accept": "application/activity+json"}


def test_entries_expire_and_the_oldest_go_first() -> None:
    now = [0.0]
    cache = DocumentCache(ttl=5, max_items=2, clock=lambda: now[0])
    cache.put("a", b"A")
    cache.put("b", b"B")
    assert cache.get("a") == b"A"  # now "b" is the least recently used
    cache.put("c", b"C")
    assert cache.get("b") is None and cache.get("c") == b"C"
    now[0] = 5.1
    assert cache.get("a") is None and len(cache) == 1
    off = DocumentCache(ttl=0)
    off.put("a", b"A")
    assert off.get("a") is None


async def test_hits_skip_the_database_and_changes_show_at_once(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    asset = await create(client, group_token)
    first = await client.get(asset["iri"], headers=JSONLD)
    assert first.status_code == 200
    cache: DocumentCache = client._transport.app.state.runtime.documents  # type: ignore[attr-defined]
    assert cache.get(asset["id"]) == first.content
    cache.put(asset["id"], b'{"served": "from memory"}')
    assert (await client.get(asset["iri"], headers=JSONLD)).json() == {"served": "from memory"}

    changed = await client.patch(
        f"/api/assets/{asset['id']}", json={"summary": "Changed"}, headers=auth(group_token)
    )
    assert changed.status_code == 200
    assert (await client.get(asset["iri"], headers=JSONLD)).json()["abstract"] == "Changed"
    await client.delete(f"/api/assets/{asset['id']}", headers=auth(group_token))
    assert (await client.get(asset["iri"], headers=JSONLD)).status_code == 410
