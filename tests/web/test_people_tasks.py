"""What people come for, in Chromium at desktop and phone sizes: registering with a place
picked by name or typed with a comma, withdrawing and deleting behind a confirmation,
following from Mastodon, opening the linked data, and moderating with a diff. Every page
checked with axe-core; screenshots under test-artifacts/."""

from __future__ import annotations

import re

from tests.web.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    MEMBER,
    MEMBER_PASSWORD,
    WebNode,
    check,
    sign_in,
)

DESKTOP = {"width": 1200, "height": 900}
PHONE = {"width": 390, "height": 844}


def no_sideways_scroll(page, name: str) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width}px wide on a {PHONE['width']}px screen"


def test_register_withdraw_and_delete(web_node: WebNode, browser) -> None:  # type: ignore[no-untyped-def]
    base = web_node.url
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport, bypass_csp=True)
        page = context.new_page()
        sign_in(page, base, MEMBER, MEMBER_PASSWORD)
        page.goto(f"{base}/my/assets/new")
        # Rare fields are folded; the country is chosen by name; a comma decimal is fine.
        assert page.locator("details.more:not(.language)").get_attribute("open") is None
        assert not page.get_by_label("Shape on the map").is_visible()
        name = f"Fab Lab Nantes ({size})"
        page.locator("#f-name").fill(name)
        page.get_by_label("Kind of asset").select_option("fablab")
        page.get_by_label("Country", exact=True).select_option(label="France")
        page.get_by_label("Latitude").fill("47,2184")
        page.get_by_label("Longitude").fill("-1,5536")
        if size == "desktop":
            # Or pick it on the map: a click sets both inputs.
            page.wait_for_selector("#pick-map.leaflet-container")
            page.locator("#pick-map").click(position={"x": 60, "y": 60})
            picked = page.locator("#pick-map").get_attribute("data-picked")
            assert picked and picked == (
                page.get_by_label("Latitude").input_value()
                + ","
                + page.get_by_label("Longitude").input_value()
            )
            page.get_by_label("Latitude").fill("47,2184")
            page.get_by_label("Longitude").fill("-1,5536")
        page.get_by_label("Longitude").blur()  # settle the map before the full-page screenshot
        check(page, f"form-{size}")
        if size == "phone":
            no_sideways_scroll(page, "the asset form")
        with page.expect_navigation():
            page.get_by_role("button", name="Register").click()
        assert "/my?saved=" in page.url, page.locator("main").inner_text()[:600]
        row = page.get_by_role("row", name=re.compile(re.escape(name)))
        if size == "phone":
            no_sideways_scroll(page, "our assets")
        check(page, f"my-assets-{size}")

        # Withdraw asks first, then the member is back on the list.
        row.get_by_role("link", name=re.compile("^Withdraw")).click()
        assert page.get_by_role("heading", level=1).inner_text() == f"Withdraw {name}?"
        check(page, f"confirm-withdraw-{size}")
        with page.expect_navigation():
            page.get_by_role("button", name="Withdraw it").click()
        assert "/my?saved=" in page.url

        # Delete asks, says it cannot be undone, then the asset is gone from the list.
        page.get_by_role("row", name=re.compile(re.escape(name))).get_by_role(
            "link", name=re.compile("^Delete")
        ).click()
        assert "This cannot be undone" in page.locator("main").inner_text()
        check(page, f"confirm-delete-{size}")
        with page.expect_navigation():
            page.get_by_role("button", name="Delete it for good").click()
        assert f"Deleted: {name}." in page.get_by_role("status").first.inner_text()
        assert page.get_by_role("row", name=re.compile(re.escape(name))).count() == 0
        context.close()


def test_follow_and_linked_data(web_node: WebNode, browser) -> None:  # type: ignore[no-untyped-def]
    base = web_node.url
    with web_node.api(web_node.admin_token) as admin:
        created = admin.post(
            "/api/assets",
            json={"name": "Biblioteca d'eines", "kind": "tool-library", "group": "coop-fab",
                  "location": {"latitude": 41.40, "longitude": 2.16, "locality": "Barcelona"}},
        )  # fmt: skip
        assert created.status_code == 201, created.text
    uid = created.json()["id"]
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(
            viewport=viewport, bypass_csp=True, permissions=["clipboard-read", "clipboard-write"]
        )
        page = context.new_page()
        page.goto(f"{base}/")
        # Recent additions, the node's icon, and the handle with a copy button.
        assert (
            "Biblioteca d'eines"
            in page.locator("section", has=page.locator("#recent")).inner_text()
        )
        assert page.locator("img.node-icon").evaluate("img => img.naturalWidth") > 0
        handle = page.get_by_label("Handle to follow from Mastodon or any fediverse account")
        page.get_by_role("button", name="Copy").click()
        page.wait_for_function(  # the clipboard answers asynchronously
            "() => document.querySelector('.copy-status').textContent === 'Copied'"
        )
        if size == "desktop":
            assert page.evaluate("() => navigator.clipboard.readText()") == handle.input_value()
        else:
            no_sideways_scroll(page, "the home page")
        check(page, f"home-{size}")
        # Remote follow: the reader's server, then its authorize-interaction page.
        page.get_by_label("Or type your server and follow from there").fill("@me@Social.Example")
        with page.expect_navigation():
            page.get_by_role("button", name="Follow", exact=True).click()
        go = page.get_by_role("link", name="Continue to social.example")
        assert go.get_attribute("href").startswith(
            "https://social.example/authorize_interaction?uri=registry%40"
        )
        check(page, f"remote-follow-{size}")

        # The JSON-LD alternate opens as the document, not as the page again.
        page.goto(f"{base}/assets/{uid}")
        # (the other ld+json alternate on every page is the DCAT catalog)
        alternate = page.locator('link[rel="alternate"][type="application/ld+json"]:not([title])')
        href = alternate.get_attribute("href")
        assert href == f"{base}/assets/{uid}.jsonld"
        with page.expect_navigation():
            page.get_by_role("link", name="JSON-LD").click()
        assert page.url == href
        assert f'"id":"{base}/assets/{uid}"' in page.locator("body").inner_text().replace(" ", "")
        context.close()


def test_moderation_sees_the_diff(web_node: WebNode, browser) -> None:  # type: ignore[no-untyped-def]
    base = web_node.url
    with web_node.api(web_node.admin_token) as admin:
        created = admin.post(
            "/api/assets",
            json={"name": "Hort Comunitari", "kind": "community-garden", "group": "coop-fab",
                  "summary": "Plots for neighbours"},
        )  # fmt: skip
    uid = created.json()["id"]
    with web_node.api(web_node.group_token) as group:
        changed = group.patch(f"/api/assets/{uid}", json={"summary": "Plots for everyone"})
        assert changed.status_code == 200, changed.text
        assert changed.json()["moderation"]["pending_change"], changed.json()
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):  # the desktop one rejects
        context = browser.new_context(viewport=viewport, bypass_csp=True)
        page = context.new_page()
        sign_in(page, base, ADMIN, ADMIN_PASSWORD)
        card = page.locator("li.card", has_text="Hort Comunitari")
        diff = card.locator("table.diff")
        assert diff.count() == 1, page.locator("main").inner_text()[:1500]
        assert "Plots for neighbours" in diff.locator("del").inner_text()
        assert "Plots for everyone" in diff.locator("ins").inner_text()
        if size == "phone":
            no_sideways_scroll(page, "the moderation queue")
            check(page, "queue-phone")
            context.close()
            continue
        check(page, "queue-diff-desktop")
        # Rejecting without a reason is refused beside the reason.
        with page.expect_navigation():
            card.get_by_role("button", name=re.compile("^Reject")).click()
        error = page.locator(f"#reason-{uid}-error")
        assert "Say why" in error.inner_text()
        check(page, "queue-reason-required")
        page.locator(f"#reason-{uid}").fill("Not everyone may use it")
        with page.expect_navigation():
            page.locator("li.card", has_text="Hort Comunitari").get_by_role(
                "button", name=re.compile("^Reject")
            ).click()
        assert "rejected" in page.get_by_role("status").inner_text()
        context.close()
