"""The bundled fablabs sample: loaded as a marked group, shown with its attribution, removed in
one step (tombstones and all), and loadable again under new IRIs; on both databases."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog import samples
from registry.catalog.assets import AssetService
from registry.config import Settings
from registry.core import db
from registry.core.schema import assets, groups
from tests.sample_data import fablab_records

NAMED = sum(1 for r in fablab_records() if (r.get("facility") or {}).get("name", "").strip())


async def live_iris(engine: AsyncEngine) -> set[str]:
    async with db.read(engine) as conn:
        rows = await conn.execute(select(assets.c.iri).where(assets.c.deleted_at.is_(None)))
        return set(rows.scalars())


async def test_sample_is_loaded_shown_removed_and_loaded_again(
    engine: AsyncEngine, settings: Settings, client: httpx.AsyncClient
) -> None:
    service = AssetService(engine, settings)
    report = await samples.load(service, samples.FABLABS)
    assert report.created == NAMED == 2237, report.lines()
    again = await samples.load(service, samples.FABLABS)
    assert (again.created, again.unchanged) == (0, NAMED)  # idempotent: nothing twice

    [held] = await samples.loaded(engine)
    assert (held.sample.name, held.group_slug, held.assets) == ("fablabs", "sample-fablabs", NAMED)
    found = (await client.get("/api/assets", params={"q": "fab", "limit": 1})).json()
    assert found["total"] > 1000 and found["items"][0]["group"] == "sample-fablabs"
    for page in ("/", "/search?q=fab"):
        html = (await client.get(page)).text
        assert "Includes sample data" in html and samples.FABLABS.attribution in html
    first = found["items"][0]
    page = (await client.get(f"/assets/{first['id']}", headers={"Accept": "text/html"})).text
    assert samples.FABLABS.attribution in page  # each asset carries it as its data rights

    old = await live_iris(engine)
    removed = await samples.remove(service, samples.FABLABS, by="test")
    assert removed == NAMED and await live_iris(engine) == set()
    assert await samples.loaded(engine) == []
    async with db.read(engine) as conn:
        assert (await conn.execute(select(func.count()).select_from(groups))).scalar() == 0
        tombstones = await conn.execute(
            select(func.count()).where(assets.c.deleted_at.is_not(None))
        )
        assert tombstones.scalar() == NAMED  # kept, so partners learn of the deletions
    gone = await client.get(f"/assets/{first['id']}", headers={"Accept": "application/ld+json"})
    assert gone.status_code == 410
    assert "Includes sample data" not in (await client.get("/")).text

    reloaded = await samples.load(service, samples.FABLABS)
    assert reloaded.created == NAMED
    assert (await live_iris(engine)).isdisjoint(old)  # new IRIs: tombstones are not revived


def test_unknown_sample_names_the_known_ones() -> None:
    try:
        samples.get("gardens")
    except ValueError as exc:
        assert "fablabs" in str(exc)
    else:
        raise AssertionError("an unknown sample was accepted")
