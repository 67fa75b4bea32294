"""A partner whose assets carry long texts can still be mirrored: a page of its changes feed
stops short of what a partner's fetcher accepts (1 MiB by default), whatever the page size.
Found while sizing pages for B2: 100 documents with the longest description the API accepts
(20,000 characters) are over 2 MB, and a mirror's every sync of such a partner failed.

Real parts: two server processes, the origin's API, the mirror's `sync` command."""

from __future__ import annotations

import random

import pytest

from registry.catalog.changes import PAGE_BYTES
from tests.nodes import eventually
from tests.registry.test_partner_mirroring import _accepted, catalog, converged, host, token_for

WORDS = ["commons", "garden", "repair", "seeds", "bicycles", "wood", "textiles", "solar", "café"]
LONG_ASSETS = 60  # ~23 kB each: one page of 100 would be ~1.4 MB


@pytest.mark.timeout(300)
async def test_a_catalog_of_long_descriptions_mirrors_in_pages_a_partner_can_read(
    node_factory,
) -> None:  # type: ignore[no-untyped-def]
    a, b = node_factory("A"), node_factory("B")
    token = await token_for(a)
    rng = random.Random(20)
    async with a.client(token) as http:
        for i in range(LONG_ASSETS):
            text = " ".join(rng.choice(WORDS) for _ in range(3000))[:19_500]
            body = {"name": f"Long {i}", "kind": "tool-library", "description": text}
            response = await http.post("/api/assets", json=body)
            assert response.status_code == 201, response.text
        page = await http.get("/changes?since=0", headers={"Accept": "application/activity+json"})
    if page.status_code == 200:  # the feed may ask for a signed GET: then the sync shows it
        assert len(page.content) <= PAGE_BYTES + 16_384, len(page.content)
        body = page.json()
        assert 0 < len(body["orderedItems"]) < LONG_ASSETS
        # The next page named in a Link header too: a sync sends the page to a check worker
        # unparsed (registry.fediverse.sync).
        assert page.headers["link"] == f'<{body["next"]}>; rel="next"'
        assert body["commons:latest"] >= body["orderedItems"][-1]["commons:seq"] + 1
        assert body["commons:horizon"] == 0  # nothing forgotten yet
    b.cli("partner", "add", a.base_url)
    await eventually(lambda: _accepted(b, a), timeout=60, what="A accepting B")
    out = b.cli("sync")  # after the backfill B's server starts once A accepts
    assert "failed" not in out, out

    async def mirrored() -> bool:
        return len(await catalog(b, host(a))) == LONG_ASSETS

    await eventually(mirrored, timeout=60, what="all of A's long assets on B")
    assert await converged(a, b)
