"""The Open Know-Where fablabs import, full-text and geographic search, on both databases."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import orjson
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog.assets import AssetService
from registry.catalog.importers import adapter_for, run_import
from registry.catalog.importers import base as importers_base
from registry.catalog.importers.base import BATCH_SIZE
from registry.config import Settings
from registry.core.stored_documents import from_stored
from tests.sample_data import FABLABS_FILE, fablab_records

FABLABS = FABLABS_FILE
PARIS = (2.2241, 48.8156, 2.4699, 48.9022)  # min lon, min lat, max lon, max lat


async def all_pages(client: httpx.AsyncClient, params: dict) -> list[dict]:
    items, cursor = [], None
    while True:
        page = (
            await client.get(
                "/api/assets",
                params={**params, "limit": 100, **({"cursor": cursor} if cursor else {})},
            )
        ).json()
        items += page["items"]
        cursor = page["cursor"]
        if not cursor:
            return items


async def test_fablabs_import_then_search(
    engine: AsyncEngine, settings: Settings, client: httpx.AsyncClient, auth: Callable[[str], dict]
) -> None:
    source = fablab_records()
    named = [r for r in source if (r.get("facility") or {}).get("name", "").strip()]
    report = await run_import(AssetService(engine, settings), adapter_for(FABLABS, None), FABLABS)
    assert report.created == len(named), report.lines()
    assert report.skipped_total == len(source) - len(named)

    first = (await client.get("/api/assets", params={"limit": 1})).json()
    assert first["total"] == len(named)
    assert first["facets"]["kind"] == {"fablab": len(named)}

    # The source's licence as the licence, its description where it has one, its record linked.
    every = await all_pages(client, {"facets": "false"})
    assert {a["license"] for a in every} == {"CC-BY-4.0"}
    described = {
        r["facility"]["name"].strip()
        for r in named
        if (r["facility"].get("description") or "").strip().casefold() not in ("", "fablab")
    }
    assert {a["name"] for a in every if a.get("description")} == described  # all "fablab" today
    linked = [a for a in every if a.get("derived_from")]
    assert len(linked) >= len(named) - 10
    assert all(a["derived_from"] in a["same_as"] for a in linked)

    # A city: every lab whose locality is Barcelona, found by full text.
    in_barcelona = {
        r["facility"]["name"]
        for r in named
        if (r.get("region") or {}).get("city_town", "").strip().lower() == "barcelona"
    }
    assert len(in_barcelona) >= 5
    found = {a["name"] for a in await all_pages(client, {"q": "Barcelona"})}
    assert in_barcelona <= found

    # Paris: exactly the labs whose coordinates lie in the box.
    min_lon, min_lat, max_lon, max_lat = PARIS
    expected = sorted(
        r["facility"]["name"]
        for r in named
        if r.get("geocoding")
        and min_lat <= r["geocoding"]["latitude"] <= max_lat
        and min_lon <= r["geocoding"]["longitude"] <= max_lon
    )
    assert len(expected) >= 5
    in_box = await all_pages(client, {"bbox": ",".join(map(str, PARIS))})
    assert sorted(a["name"] for a in in_box) == expected

    # Near: a 5 km circle is inside the wider box and sorted by distance.
    near = await all_pages(client, {"near": "48.8566,2.3522,5"})
    assert {a["id"] for a in near} <= {a["id"] for a in in_box}
    distances = [a["distance_km"] for a in near]
    assert distances == sorted(distances) and distances[-1] <= 5

    # Country facet and filter agree.
    fr_count = first["facets"]["country"]["FR"]
    assert len(await all_pages(client, {"country": "fr", "facets": "false"})) == fr_count

    # Re-running the import changes nothing.
    again = await run_import(AssetService(engine, settings), adapter_for(FABLABS, None), FABLABS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(named))


def test_okw_rows_keep_a_real_description_and_the_licence() -> None:
    adapter = adapter_for(FABLABS, None)
    row = adapter.row(
        0,
        {
            "facility": {
                "name": "Lab",
                "description": "A lab  in a  school",
                "url": "https://www.fablabs.io/labs/lab",
                "facility_id": "f1",
            }
        },
    )
    assert row.fields is not None
    assert row.fields["description"] == "A lab in a school"
    assert row.fields["license"] == "CC-BY-4.0"
    assert row.fields["derived_from"] == "https://www.fablabs.io/labs/lab"


async def test_accents_case_and_unicode_in_full_text(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    for name, city in (
        ("Fàbrica de Creació", "Sant Adrià"),
        ("Ateliê Paço", "São Paulo"),
        ("서울 팹랩", "서울"),
        ("Werkstatt Köln", "Köln"),
    ):
        response = await client.post(
            "/api/assets",
            json={"name": name, "kind": "fablab", "location": {"locality": city}},
            headers=auth(group_token),
        )
        assert response.status_code == 201
    for query, expected in (
        ("fabrica", "Fàbrica de Creació"),
        ("SAO paulo", "Ateliê Paço"),
        ("서울", "서울 팹랩"),
        ("koln", "Werkstatt Köln"),
        ("werk", "Werkstatt Köln"),
    ):
        names = [
            a["name"]
            for a in (await client.get("/api/assets", params={"q": query})).json()["items"]
        ]
        assert names == [expected], query
    for junk in ('"', "*", "AND OR NOT", "'; drop table assets; --", "a:b", "(((", "NEAR(x y)"):
        response = await client.get("/api/assets", params={"q": junk})
        assert response.status_code == 200, (junk, response.text)


async def test_name_matches_rank_first(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    await client.post(
        "/api/assets",
        json={"name": "Tool shed", "kind": "tool-library", "summary": "Next to the garden"},
        headers=auth(group_token),
    )
    await client.post(
        "/api/assets",
        json={"name": "Garden of Eden", "kind": "community-garden"},
        headers=auth(group_token),
    )
    names = [
        a["name"] for a in (await client.get("/api/assets", params={"q": "garden"})).json()["items"]
    ]
    assert names == ["Garden of Eden", "Tool shed"]


async def test_cursor_pages_are_stable_under_concurrent_writes(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    for i in range(25):
        await client.post(
            "/api/assets",
            json={"name": f"Garden {i}", "kind": "community-garden"},
            headers=auth(group_token),
        )
    for sort in ("newest", "name", "relevance"):
        seen: list[str] = []
        params = {"limit": 7, "sort": sort, "q": "garden"}
        page = (await client.get("/api/assets", params=params)).json()
        extra = 0
        while True:
            seen += [a["id"] for a in page["items"]]
            # Somebody writes between pages: new assets and a rename must not shift the pages.
            await client.post(
                "/api/assets",
                json={"name": f"Garden late {sort} {extra}", "kind": "community-garden"},
                headers=auth(group_token),
            )
            extra += 1
            if not page["cursor"]:
                break
            page = (
                await client.get("/api/assets", params={**params, "cursor": page["cursor"]})
            ).json()
        assert len(seen) == len(set(seen)), sort


async def test_bad_search_parameters_are_400_naming_the_parameter(
    client: httpx.AsyncClient,
) -> None:
    for params, name in (
        ({"kind": "castle"}, "kind"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"near": "91,0,5"}, "near"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"origin": "mars"}, "origin"),
        ({"sort": "relevance"}, "sort"),
        ({"country": "FRA"}, "country"),
        ({"status": "dead"}, "status"),
        ({"moderation": "pending"}, None),
    ):
        response = await client.get("/api/assets", params=params)
        if name is None:
            assert response.status_code == 401
            continue
        assert response.status_code == 400, (params, response.text)
        assert response.json()["errors"][0]["field"] == name


async def test_cursor_of_another_query_is_refused(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    for i in range(3):
        await client.post(
            "/api/assets", json={"name": f"Lab {i}", "kind": "fablab"}, headers=auth(group_token)
        )
    cursor = (await client.get("/api/assets", params={"limit": 1})).json()["cursor"]
    response = await client.get(
        "/api/assets", params={"limit": 1, "kind": "fablab", "cursor": cursor}
    )
    assert response.status_code == 400


async def test_an_import_batch_inserts_its_assets_in_one_statement(
    engine: AsyncEngine, settings: Settings
) -> None:
    """Asking RETURNING to follow the parameters' order made SQLAlchemy insert one row per
    statement on SQLite (655 us each; the whole import went twice as slow): ids are matched
    back by uid instead, and every batch is one INSERT."""
    statements: list[tuple[str, int]] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO ASSETS "):
            statements.append((statement, len(parameters) if executemany else 1))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        report = await run_import(
            AssetService(engine, settings), adapter_for(FABLABS, None), FABLABS
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    batches = -(-report.created // BATCH_SIZE)
    assert report.created > 1000
    assert len(statements) <= 2 * batches, f"{len(statements)} INSERTs for {batches} batches"

    # Every asset got its own document and text: the ids were matched back right.
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT assets.iri, assets.search_name, d.document, s.search_name AS indexed "
                    "FROM assets JOIN asset_documents d ON d.asset_id = assets.id "
                    "JOIN asset_search s ON s.asset_id = assets.id"
                )
            )
        ).all()
    assert len(rows) == report.created
    assert all(orjson.loads(from_stored(r.document))["id"] == r.iri for r in rows)
    assert all(r.indexed == r.search_name for r in rows)


async def test_a_large_import_refreshes_statistics_as_the_catalog_grows(
    engine: AsyncEngine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planned on the statistics of a near-empty table, the lookup of each batch's existing
    rows scans the growing tables (on PostgreSQL without autovacuum an import into a fresh
    node fell to ~400 assets/s by 60,000): the import gathers them again each time it has
    written as many rows as they describe, and once at the end unless the last batch did."""
    monkeypatch.setattr(importers_base, "ANALYZE_AFTER", BATCH_SIZE)
    analyzed_after: list[int] = []

    async def written() -> int:
        async with engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM assets"))).scalar_one()

    real_analyze = importers_base.db.analyze

    async def analyze(target: AsyncEngine) -> None:
        analyzed_after.append(await written())
        await real_analyze(target)

    monkeypatch.setattr(importers_base.db, "analyze", analyze)
    service = AssetService(engine, settings)
    report = await run_import(service, adapter_for(FABLABS, None), FABLABS)
    assert report.created > 4 * BATCH_SIZE
    assert analyzed_after == [BATCH_SIZE, 2 * BATCH_SIZE, 4 * BATCH_SIZE, report.created]
    again = await run_import(service, adapter_for(FABLABS, None), FABLABS)
    assert again.unchanged == report.created and analyzed_after[4:] == []  # nothing written
