"""A group member registers an asset in a real browser; an admin approves it; the member finds
it by search and on the map. Names with markup stay text all the way."""

from __future__ import annotations

import re

from tests.web.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    MAP_READY,
    MEMBER,
    MEMBER_PASSWORD,
    WebNode,
    screenshot,
    sign_in,
)

# Markup that would run if any page put a name or summary into the document as HTML.
NAME = 'Fab Lab Poblenou <img src=x onerror="window.__pwned=1"><b>bold</b>'
SUMMARY = "Tools for everyone <script>window.__pwned=2</script>"


def test_member_registers_asset_admin_approves_member_finds_it(web_node: WebNode, browser) -> None:  # type: ignore[no-untyped-def]
    base = web_node.url
    member = browser.new_context(viewport={"width": 1100, "height": 900})
    page = member.new_page()
    sign_in(page, base, MEMBER, MEMBER_PASSWORD)
    assert page.url == f"{base}/my"

    page.get_by_role("link", name="Register an asset").click()
    page.locator("#f-name").fill(NAME)
    page.get_by_label("Kind of asset").select_option("fablab")
    page.get_by_label("Summary", exact=True).fill(SUMMARY)
    page.get_by_label("Town or city").fill("Barcelona")
    page.get_by_label("Country").select_option("ES")
    page.get_by_label("Latitude").fill("95.2")  # not on Earth
    page.get_by_label("Longitude").fill("2.1943")
    page.get_by_label("Tags").fill("fablab\nopenhardware")
    page.get_by_role("button", name="Register").click()

    # The error sits beside the latitude input, which is marked invalid; what was typed stays.
    error = page.locator("#f-latitude-error")
    assert "between -90 and 90" in error.inner_text()
    latitude = page.get_by_label("Latitude")
    assert latitude.get_attribute("aria-invalid") == "true"
    assert "f-latitude-error" in (latitude.get_attribute("aria-describedby") or "")
    assert latitude.input_value() == "95.2"
    assert page.locator("#f-name").input_value() == NAME
    assert page.get_by_label("Summary", exact=True).input_value() == SUMMARY
    assert page.get_by_label("Tags").input_value() == "fablab\nopenhardware"
    assert page.get_by_label("Kind of asset").input_value() == "fablab"
    assert page.locator("#form-errors").get_by_role("link", name="Latitude").count() == 1
    screenshot(page, "asset-form-with-error")

    latitude.fill("41.3965")
    page.get_by_role("button", name="Register").click()
    assert page.url.startswith(f"{base}/my?saved=")
    row = page.locator("tr.saved")
    assert "Waiting for approval" in row.inner_text()
    assert NAME in row.inner_text()  # the markup is shown as text
    screenshot(page, "member-assets")

    # Not public before approval: the search does not find it.
    page.goto(f"{base}/search?q=poblenou")
    assert page.locator("ol.results h3").count() == 0

    admin = browser.new_context(viewport={"width": 1100, "height": 900})
    admin_page = admin.new_page()
    sign_in(admin_page, base, ADMIN, ADMIN_PASSWORD)
    assert admin_page.url == f"{base}/admin"
    card = admin_page.locator("li.card", has_text="Fab Lab Poblenou")
    assert card.count() == 1
    screenshot(admin_page, "admin-moderation-queue")
    card.get_by_role("button", name=re.compile("^Approve")).click()
    assert "approved" in admin_page.get_by_role("status").inner_text()
    assert admin_page.locator("li.card", has_text="Fab Lab Poblenou").count() == 0

    # The member searches (with a shareable URL), sees the result and its marker on the map.
    page.goto(f"{base}/")
    page.get_by_label("Search the commons").fill("poblenou")
    page.get_by_label("Search the commons").press("Enter")
    page.wait_for_load_state()
    assert "q=poblenou" in page.url
    result = page.locator("ol.results h3 a")
    assert result.count() == 1
    assert result.inner_text() == NAME
    page.wait_for_selector(MAP_READY)
    assert page.locator("#map").get_attribute("data-markers") == "1"
    marker = page.locator("#map img.leaflet-marker-icon")
    assert marker.count() == 1
    assert marker.get_attribute("alt") == NAME
    assert page.locator("#map-status").inner_text() == "All 1 results with a place are on the map."
    screenshot(page, "search-results-map")

    result.click()
    page.wait_for_selector(MAP_READY)
    assert page.locator("#map").get_attribute("data-markers") == "1"
    assert page.get_by_role("heading", level=1).inner_text() == NAME
    assert page.locator("p.lead").inner_text() == SUMMARY
    assert page.locator("a", has_text="GeoJSON").count() == 1
    assert page.locator("input.handle").input_value().startswith("@registry@")
    screenshot(page, "asset-page")

    for p in (page, admin_page):
        assert p.evaluate("() => window.__pwned") is None
    member.close()
    admin.close()


def test_pages_work_without_javascript(web_node: WebNode, browser) -> None:  # type: ignore[no-untyped-def]
    """The list, the filters and sign-in do not need scripts (the map is then absent)."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{web_node.url}/search")
    page.get_by_label("Kind", exact=True).select_option("fablab")
    page.get_by_role("button", name="Apply filters").click()
    assert "kind=fablab" in page.url
    assert not page.locator("#map").is_visible()
    sign_in(page, web_node.url, MEMBER, MEMBER_PASSWORD)
    assert page.url == f"{web_node.url}/my"
    context.close()
