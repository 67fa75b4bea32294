"""Linked data a browser can open: `.jsonld` alternates, <link rel="alternate">, the default
node icon on the actor, "Follow from Mastodon" and the recent additions on the home page."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.conftest import BASE_URL

ASSET = {
    "name": "Taller Comunal <b>Gràcia</b>",
    "kind": "fablab",
    "status": "active",
    "location": {"locality": "Barcelona", "country": "ES", "latitude": 41.40, "longitude": 2.15},
}


async def test_jsonld_alternate_opens_in_a_browser(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    created = (await client.post("/api/assets", json=ASSET, headers=auth(group_token))).json()
    uid = created["id"]
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = await client.get(f"/assets/{uid}", headers=browser)
    assert page.headers["content-type"].startswith("text/html")
    assert (
        f'<link rel="alternate" type="application/ld+json" href="{BASE_URL}/assets/{uid}.jsonld">'
        in page.text
    )
    assert f'href="{BASE_URL}/assets/{uid}.geojson"' in page.text
    # The same browser Accept header on the alternate gets the document, not the page again.
    document = await client.get(f"/assets/{uid}.jsonld", headers=browser)
    assert document.status_code == 200
    assert document.headers["content-type"].startswith("application/ld+json")
    assert document.json()["id"] == f"{BASE_URL}/assets/{uid}"
    assert (
        document.json()
        == (await client.get(f"/assets/{uid}", headers={"Accept": "application/ld+json"})).json()
    )
    assert (await client.get("/assets/nothing.jsonld", headers=browser)).status_code == 404
    missing = await client.get("/assets/nothing.jsonld")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    # Deleted: the alternate says so with a tombstone, as the IRI does.
    await client.delete(f"/api/assets/{uid}", headers=auth(group_token))
    gone = await client.get(f"/assets/{uid}.jsonld")
    assert gone.status_code == 410 and gone.json()["type"] == "Tombstone"


async def test_actor_has_the_default_icon_and_pages_show_it(
    federated: tuple[httpx.AsyncClient, object],
) -> None:
    client, _ = federated
    actor = (await client.get("/actor", headers={"Accept": "application/activity+json"})).json()
    assert actor["icon"]["url"] == f"{BASE_URL}/static/avatar.png"
    image = await client.get("/static/avatar.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    home = (await client.get("/")).text
    assert f'<link rel="icon" href="{BASE_URL}/static/avatar.png">' in home


async def test_configured_icon_replaces_the_default(make_app: Callable[..., object]) -> None:
    app = make_app(federation={"icon_url": "https://cdn.example/logo.png"})
    runtime = app.state.runtime  # type: ignore[attr-defined]
    await runtime.start_federation(run_workers=False)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    try:
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            accept = {"Accept": "application/activity+json"}
            actor = (await http.get("/actor", headers=accept)).json()
            assert actor["icon"]["url"] == "https://cdn.example/logo.png"
            assert 'src="https://cdn.example/logo.png"' in (await http.get("/")).text
    finally:
        await runtime.stop_federation()


@pytest.mark.parametrize(
    ("typed", "host"),
    [
        ("mastodon.social", "mastodon.social"),
        ("https://Mastodon.Social/", "mastodon.social"),
        ("@me@social.coop", "social.coop"),
    ],
)
async def test_remote_follow_links_to_the_readers_server(
    client: httpx.AsyncClient, typed: str, host: str
) -> None:
    page = await client.get("/follow", params={"server": typed})
    assert page.status_code == 200
    handle = "registry%40" + BASE_URL.split("//")[1].split("/")[0].split(":")[0]
    assert f'href="https://{host}/authorize_interaction?uri={handle}' in page.text


async def test_remote_follow_refuses_what_is_not_a_server(client: httpx.AsyncClient) -> None:
    page = await client.get("/follow", params={"server": "not a server/../x"})
    assert page.status_code == 400
    assert "does not look like a server name" in page.text
    assert "authorize_interaction" not in page.text


async def test_home_lists_recent_additions_and_the_follow_box(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    for n in range(7):
        body = {**ASSET, "name": f"Recent lab {n}"}
        assert (
            await client.post("/api/assets", json=body, headers=auth(group_token))
        ).status_code == 201
    home = (await client.get("/")).text
    recent = home[home.index('id="recent"') : home.index('id="follow"')]
    assert [f"Recent lab {n}" in recent for n in range(7)] == [
        False,
        False,
        True,
        True,
        True,
        True,
        True,
    ]
    assert recent.index("Recent lab 6") < recent.index("Recent lab 2")  # newest first
    assert 'class="handle" value="@registry@' in home and 'action="' in home and "/follow" in home
