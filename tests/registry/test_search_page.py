"""The HTML search over the 2,237 fablabs, on both databases: countries by name, filters as
removable chips, numbered pages, sorting, "did you mean", empty facets hidden."""

from __future__ import annotations

import re
from html import unescape

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog.assets import AssetService
from registry.catalog.importers import adapter_for, run_import
from registry.config import Settings
from tests.sample_data import FABLABS_FILE

FABLABS = FABLABS_FILE


def text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def names_in(html: str) -> list[str]:
    return [unescape(n) for n in re.findall(r"<h3><a href=\"[^\"]+\">([^<]+)</a></h3>", html)]


def chip_links(html: str) -> dict[str, str]:
    block = re.search(r'<ul class="chips".*?</ul>', html, re.S)
    if not block:
        return {}
    return {
        unescape(label): unescape(href)
        for href, label in re.findall(r'<a href="([^"]+)" aria-label="([^"]+)"', block.group(0))
    }


async def test_search_page_for_people(
    engine: AsyncEngine, settings: Settings, client: httpx.AsyncClient
) -> None:
    await run_import(AssetService(engine, settings), adapter_for(FABLABS, None), FABLABS)
    api_total = (await client.get("/api/assets", params={"limit": 1})).json()["total"]

    # Page 2 keeps the count and says which results it shows.
    second = (await client.get("/search", params={"page": "2"})).text
    assert f"21–40 of {api_total:,}" in text(second)
    assert 'aria-current="page" aria-label="Page 2"' in second
    assert 'rel="prev"' in second and 'rel="next"' in second
    page_two_names = names_in(second)
    listed = (await client.get("/api/assets", params={"limit": 40, "facets": "false"})).json()
    assert page_two_names == [a["name"] for a in listed["items"][20:40]]

    # A country typed by name (in several languages) is the same filter as its code.
    by_code = (await client.get("/api/assets", params={"country": "ES", "limit": 1})).json()
    for typed in ("Spain", "España", "espagne"):
        page = (await client.get("/search", params={"country": typed})).text
        assert f"{by_code['total']:,} results" in text(page), typed
    unknown = await client.get("/search", params={"country": "Atlantis"})
    assert unknown.status_code == 400
    assert "We do not know a country called “Atlantis”" in text(unknown.text)
    assert "ISO 3166" not in unknown.text
    # The picker lists the catalog's countries by name, in the page's language.
    spanish = (await client.get("/search", params={"lang": "es"})).text
    assert '<option value="DE">Alemania</option>' in spanish
    client.cookies.clear()  # the choice of Spanish would stick; the rest reads in English

    # Each active filter is a chip whose link removes it alone (near and bbox too).
    params = {"q": "fab", "country": "ES", "bbox": "-10,35,5,44", "near": "41.39,2.17,50"}
    page = (await client.get("/search", params=params)).text
    links = chip_links(page)
    assert set(links) == {
        "Remove filter Country: Spain",
        "Remove filter Area: the map area you chose",
        "Remove filter Near: within 50 km of 41.3900, 2.1700",
    }, links
    without_near = links["Remove filter Near: within 50 km of 41.3900, 2.1700"]
    assert "near=" not in without_near and "bbox=" in without_near and "q=fab" in without_near
    # Sorting by distance is offered only with near; by relevance only with words.
    assert '<option value="distance"' in page and '<option value="relevance"' in page
    plain = (await client.get("/search")).text
    assert '<option value="distance"' not in plain and '<option value="relevance"' not in plain
    by_name = (await client.get("/search", params={"sort": "name"})).text
    assert len(names_in(by_name)) == 20

    # A typo finds nothing, and the catalog's own word is suggested; empty facets are hidden.
    typo = (await client.get("/search", params={"q": "barcleona"})).text
    assert "0 results" in text(typo)
    assert re.search(r'Did you mean <a href="[^"]*q=barcelona[^"]*">barcelona</a>', typo)
    assert 'id="facet-kind"' not in typo and 'id="facet-country"' not in typo
    fixed = (await client.get("/search", params={"q": "barcelona"})).text
    assert "Did you mean" not in fixed and "0 results" not in text(fixed)
