"""An admin adds a partner node with the form, watches its sync state, finds the partner's
asset mirrored here with its provenance, asks for a sync and removes the partner."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.nodes import Node
from tests.web.conftest import ADMIN, ADMIN_PASSWORD, WebNode, check, screenshot, sign_in


@pytest.fixture
def partner_node(tmp_path: Path, web_node: WebNode):  # type: ignore[no-untyped-def]
    node = Node(
        name="partner",
        workdir=tmp_path / "partner",
        database_url=f"sqlite:///{tmp_path / 'partner' / 'data' / 'registry.db'}",
    )
    node.init()
    node.start()
    try:
        yield node
    finally:
        node.stop()


def reload_until(page, condition, what: str, timeout: float = 40) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.5)
        page.reload()


def test_admin_manages_a_partner_and_sees_its_mirrored_asset(
    web_node: WebNode, partner_node: Node, browser
) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(
        base_url=partner_node.base_url,
        headers={"Authorization": f"Bearer {partner_node.admin_token}"},
    ) as api:
        created = api.post(
            "/api/assets",
            json={
                "name": "Taller Obert de Sants",
                "kind": "fablab",
                "location": {"latitude": 41.375, "longitude": 2.135, "country": "ES"},
            },
        )
        assert created.status_code == 201, created.text
    origin_iri = created.json()["iri"]

    base = web_node.url
    context = browser.new_context(bypass_csp=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    sign_in(page, base, ADMIN, ADMIN_PASSWORD)
    page.goto(f"{base}/admin/partners")
    page.get_by_label("The partner's address").fill(partner_node.base_url)
    page.get_by_role("button", name="Add partner").click()
    assert "partner is added" in page.get_by_role("status").inner_text()
    row = page.get_by_role("row", name=re.compile(re.escape(f"127.0.0.1:{partner_node.port}")))
    assert row.count() == 1

    page.goto(f"{base}/search?origin=mirrored&q=sants")
    reload_until(
        page, lambda: page.locator("ol.results h3 a").count() == 1, "the mirrored copy", 60
    )
    page.locator("ol.results h3 a").click()
    provenance = page.locator("p.provenance")
    assert f"127.0.0.1:{partner_node.port}" in provenance.inner_text()
    assert provenance.get_by_role("link").first.get_attribute("href") == origin_iri
    assert origin_iri in provenance.inner_text()
    check(page, "mirrored-asset")

    page.goto(f"{base}/admin/partners")
    reload_until(page, lambda: "accepted" in row.inner_text(), "the follow accepted")
    reload_until(page, lambda: row.locator("time").count() == 1, "the first sync")
    check(page, "admin-partners-with-partner")
    row.get_by_role("button", name=re.compile("^Sync now")).click()
    assert "sync is requested" in page.get_by_role("status").inner_text()

    page.goto(f"{base}/")
    assert page.get_by_role("link", name=re.compile("Node partner")).count() == 1

    page.goto(f"{base}/admin/partners")
    row.get_by_role("button", name=re.compile("^Remove")).click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Remove the partner")
    screenshot(page, "admin-partner-confirm-remove")
    page.get_by_role("button", name="Remove the partner").click()
    assert "partner is removed" in page.get_by_role("status").inner_text()
    assert row.count() == 0
    screenshot(page, "admin-partner-removed")
    context.close()
