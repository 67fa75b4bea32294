"""The search page over the 2,237 fablabs in Chromium, at desktop and phone sizes: every
placed result on the map in clusters, the map data fast, the first result a few Tab presses
away, filters as chips, "search this area", and axe clean. Screenshots in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.nodes import Node
from tests.sample_data import FABLABS_FILE
from tests.web.conftest import DEAD_TILES, MAP_READY, _cli, check, chromium_path, screenshot

FABLABS = FABLABS_FILE
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def fablab_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    chromium_path()
    workdir = tmp_path_factory.mktemp("fablabnode")
    node = Node(
        name="fablabs",
        workdir=workdir,
        database_url=f"sqlite:///{workdir / 'data' / 'registry.db'}",
        extra_env={"COMMONS_WEB_TILE_URL": DEAD_TILES},
    )
    node.init()
    _cli(node, "import", str(FABLABS))
    node.start()
    try:
        yield node
    finally:
        node.stop()


def placed_results(base: str, q: str) -> tuple[int, int]:
    """(results, results with a place) for q, counted from the JSON API's pages."""
    total = placed = 0
    cursor = None
    with httpx.Client(base_url=base, timeout=30) as http:
        while True:
            params = {
                "q": q,
                "limit": 100,
                "facets": "false",
                **({"cursor": cursor} if cursor else {}),
            }
            page = http.get("/api/assets", params=params).json()
            total += len(page["items"])
            placed += sum(
                1 for a in page["items"] if (a.get("location") or {}).get("latitude") is not None
            )
            cursor = page["cursor"]
            if not cursor:
                return total, placed


def map_data_ms(page) -> float:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "() => performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/api/map'))"
        ".map(e => e.responseEnd - e.startTime)[0]"
    )


def test_every_placed_result_is_on_the_map(fablab_node: Node, browser) -> None:  # type: ignore[no-untyped-def]
    base = fablab_node.base_url
    total, placed = placed_results(base, "fab")
    assert placed > 2000 and total > placed
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{base}/search?q=fab")
    page.wait_for_selector(MAP_READY)
    # Every placed result is a marker of the cluster layer; the caption says the true counts.
    assert int(page.locator("#map").get_attribute("data-markers")) == placed
    caption = page.locator("#map-status").inner_text()
    assert f"{placed:,} of {total:,} results have a place" in caption, caption
    clusters = page.locator("#map .marker-cluster")
    assert clusters.count() > 5
    shown = sum(int(c.inner_text().replace(",", "")) for c in clusters.all())
    assert shown > placed // 2  # the fitted view holds most of them
    first = map_data_ms(page)
    # The first answer is computed (and printed: on a machine shared with other test runs it
    # swings with the load, 59 ms to 178 ms measured); a later visit is served from the
    # node's map cache, which a write invalidates.
    page.reload()
    page.wait_for_selector(MAP_READY)
    again = map_data_ms(page)
    print(f"map data for q=fab: first {first:.1f} ms, again {again:.1f} ms; {placed} of {total}")
    assert again < 100, f"the map data took {again:.0f} ms"
    # Markers and clusters are not tab stops.
    assert page.locator("#map .leaflet-marker-icon[tabindex]").count() == 0
    check(page, "map-fab-desktop")

    # The keyboard reaches the first result in a few presses, past header and search box.
    page.goto(f"{base}/search?q=fab")
    first = page.locator("ol.results h3 a").first.inner_text()
    presses = 0
    while presses < 30:
        page.keyboard.press("Tab")
        presses += 1
        if page.evaluate("() => document.activeElement.closest('ol.results') !== null"):
            break
    assert page.evaluate("() => document.activeElement.textContent") == first
    print(f"first result after {presses} Tab presses")
    assert presses < 10

    # "Skip the map" passes the map's own controls, to the filters.
    page.locator("a.skip-map").focus()
    assert page.locator("a.skip-map").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "after-map"

    # A click on a cluster zooms in; "search this area" then filters to the view.
    page.wait_for_selector(MAP_READY)
    page.locator("#map .marker-cluster").first.click()
    page.wait_for_timeout(600)
    page.get_by_role("button", name="Search this area").click()
    page.wait_for_load_state()
    assert "bbox=" in page.url
    chip = page.get_by_role("link", name="Remove filter Area: the map area you chose")
    assert chip.count() == 1
    page.wait_for_selector(MAP_READY)
    in_area = int(page.locator("#map").get_attribute("data-markers"))
    assert 0 < in_area < placed
    screenshot(page, "map-search-this-area")
    chip.click()
    page.wait_for_load_state()
    assert "bbox=" not in page.url
    context.close()


def test_search_on_a_phone(fablab_node: Node, browser) -> None:  # type: ignore[no-untyped-def]
    base = fablab_node.base_url
    context = browser.new_context(viewport=PHONE, bypass_csp=True, is_mobile=True)
    page = context.new_page()
    for name, path in {
        "phone-search-fab": "/search?q=fab&country=Spain",
        "phone-search-page-3": "/search?page=3",
        "phone-search-typo": "/search?q=barcleona",
    }.items():
        page.goto(base + path)
        page.wait_for_selector(MAP_READY)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} is {width}px wide"
        check(page, name)
    page.get_by_role("link", name="barcelona").click()
    page.wait_for_load_state()
    assert "q=barcelona" in page.url and page.locator("ol.results h3").count() > 0
    context.close()
