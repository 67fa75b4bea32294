"""Every page, as a visitor, a group member and an admin see it, passes axe-core with no
serious or critical violation; each is kept as a screenshot under test-artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    MAP_READY,
    MEMBER,
    MEMBER_PASSWORD,
    WebNode,
    check,
    sign_in,
)


@pytest.fixture(scope="session")
def seeded(web_node: WebNode) -> dict[str, str]:
    """A published asset with everything filled in, and one waiting in the queue."""
    asset = {
        "name": "Jardí <em>del</em> Barri",
        "kind": "community-garden",
        "summary": "A garden run by its neighbours",
        "description": "Open on weekends.\n\nBring gloves.",
        "ownership_model": "community-land-trust",
        "status": "active",
        "steward": {"name": "Associació del Barri"},
        "public_access": True,
        "free_of_charge": True,
        "access_rights": "public",
        "license": "CC-BY-4.0",
        "location": {
            "latitude": 41.39,
            "longitude": 2.17,
            "locality": "Barcelona",
            "country": "ES",
            "street_address": "Carrer Major 1",
        },
        "tags": ["garden", "food"],
        "website": "https://garden.example/",
        "opening_hours": ["Sa-Su 10:00-14:00"],
    }
    with web_node.api(web_node.admin_token) as admin:
        created = admin.post("/api/assets", json={**asset, "group": "coop-fab"})
        assert created.status_code == 201, created.text
    with web_node.api(web_node.group_token) as group:
        waiting = group.post(
            "/api/assets", json={"name": "Tool library Gràcia", "kind": "tool-library"}
        )
        assert waiting.status_code == 201, waiting.text
    return {"published": created.json()["id"], "waiting": waiting.json()["id"]}


def test_every_page_passes_axe(web_node: WebNode, seeded: dict[str, str], browser) -> None:  # type: ignore[no-untyped-def]
    base = web_node.url
    # axe is injected as a script, which the pages' Content-Security-Policy would refuse.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    public = {
        "home": "/",
        "search": "/search?country=ES",
        "asset": f"/assets/{seeded['published']}",
        "scheme": "/vocab/kinds",
        "concept": "/vocab/kinds/fablab?lang=es",  # the choice sticks (a cookie)...
        "not-found": "/assets/nothing-here?lang=en",  # ...until English is chosen again
        "signin": "/signin",
    }
    for name, path in public.items():
        page.goto(base + path)
        if page.locator("#map").count():
            page.wait_for_selector(MAP_READY)
        check(page, name)

    page.get_by_label("Username").fill(MEMBER)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    check(page, "signin-failed")

    sign_in(page, base, MEMBER, MEMBER_PASSWORD)
    check(page, "member-dashboard")
    page.goto(f"{base}/my/assets/new")
    check(page, "asset-form")
    page.get_by_role("button", name="Register").click()  # nothing filled in: errors
    assert page.locator(".field-error").count() >= 2
    check(page, "asset-form-errors")
    page.goto(f"{base}/my/assets/{seeded['waiting']}/edit")
    check(page, "asset-edit")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, base, ADMIN, ADMIN_PASSWORD)
    for name, path in {
        "admin-queue": "/admin",
        "admin-partners": "/admin/partners",
        "admin-followers": "/admin/followers",
        "admin-domain-blocks": "/admin/domain-blocks",
        "admin-tokens": "/admin/tokens",
    }.items():
        page.goto(base + path)
        check(page, name)

    page.goto(f"{base}/admin/domain-blocks")
    page.get_by_label("Domain", exact=True).fill("spam.example")
    page.get_by_label("Reason").fill("sends spam")
    page.get_by_role("button", name="Block", exact=True).click()
    check(page, "admin-confirm-block")  # nothing happens before the confirmation
    page.get_by_role("button", name="Block the domain").click()
    assert page.get_by_role("row", name=re.compile("spam.example")).count() == 1
    check(page, "admin-domain-blocked")

    page.goto(f"{base}/admin/tokens")
    page.get_by_role("button", name="Create token").click()
    assert page.locator("#new-token").input_value().startswith("cr_")
    check(page, "admin-token-created")
    context.close()


def test_narrow_screen(web_node: WebNode, seeded: dict[str, str], browser) -> None:  # type: ignore[no-untyped-def]
    """Phones: no page is wider than the screen."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    page = context.new_page()
    for name, path in {
        "home": "/",
        "search": "/search",
        "asset": f"/assets/{seeded['published']}",
    }.items():
        page.goto(web_node.url + path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"{name} is {width}px wide on a 360px screen"
        check(page, f"narrow-{name}")
    context.close()
