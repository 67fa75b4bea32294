"""The asset form in plain words (comma decimals, a country by name, rare fields folded) and
withdrawing or deleting an asset from the web behind a confirmation page; in process, on
SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.people import accounts
from tests.web.test_sessions_and_forms import csrf_of, hidden, sign_in


async def test_form_speaks_plainly_and_takes_comma_decimals(
    web: httpx.AsyncClient, people: dict[str, str]
) -> None:
    await sign_in(web, "alice")
    form = (await web.get("/my/assets/new")).text
    # The country is picked by name; the rare fields are folded under "More details".
    assert '<option value="ES">Spain</option>' in form
    details = form[form.index('<details class="more"') : form.index("</details>")]
    assert 'name="geometry"' in details and 'name="rights"' in details
    assert 'name="name"' not in details and 'name="latitude"' not in details
    token = await csrf_of(web)
    bad = await web.post(
        "/my/assets/new",
        data={"csrf_token": token, "name": "Fab", "kind": "fablab", "latitude": "47,2",
              "longitude": "abc", "website": "example.org"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert "ISO 3166" not in bad.text and "expected a number" not in bad.text
    assert "Type a number, such as 41.3965 (a comma works too)." in bad.text
    assert "Type a full web address, starting with https://" in bad.text
    assert 'value="47,2"' in bad.text  # kept as typed
    # The folded section opens by itself when one of its fields is wrong.
    wrong_rights = await web.post(
        "/my/assets/new",
        data={"csrf_token": token, "name": "Fab", "kind": "fablab", "geometry": "{not json"},
    )
    assert '<details class="more" open>' in wrong_rights.text
    good = await web.post(
        "/my/assets/new",
        data={"csrf_token": token, "name": "Fab Nantes", "kind": "fablab",
              "latitude": "47,2184", "longitude": "-1,5536", "country": "FR"},
    )  # fmt: skip
    assert good.status_code == 303
    uid = good.headers["location"].rsplit("=", 1)[1]
    edit = (await web.get(f"/my/assets/{uid}/edit")).text
    assert 'value="47.2184"' in edit and 'value="-1.5536"' in edit
    assert '<option value="FR" selected>France</option>' in edit


async def test_withdraw_and_delete_ask_first_then_federate(
    web: httpx.AsyncClient,
    engine: AsyncEngine,
    people: dict[str, str],
    auth: Callable[[str], dict],
) -> None:
    _, admin = await accounts.create_admin_token(engine)
    created = await web.post(
        "/api/assets",
        json={"name": "Taller del Barri", "kind": "fablab", "status": "active",
              "group": "coop-fab"},
        headers=auth(admin),
    )  # fmt: skip
    uid = created.json()["id"]
    await sign_in(web, "alice")
    mine = (await web.get("/my")).text
    assert f'href="http://registry.test/my/assets/{uid}/withdraw"' in mine
    # Withdraw: a confirmation page first; nothing changes until it is confirmed.
    confirm = await web.get(f"/my/assets/{uid}/withdraw")
    assert confirm.status_code == 200 and "will be marked as closed" in confirm.text
    assert (await web.get(f"/api/assets/{uid}")).json()["status"] == "active"
    no_token = await web.post(f"/my/assets/{uid}/withdraw", data={})
    assert no_token.status_code == 403
    done = await web.post(
        f"/my/assets/{uid}/withdraw", data={"csrf_token": hidden(confirm.text, "csrf_token")}
    )
    assert done.status_code == 303
    # With approval required, the withdrawal waits for an admin like any other change.
    pending = (await web.get(f"/api/assets/{uid}", headers=auth(admin))).json()
    assert pending["status"] == "active" and pending["moderation"]["pending_change"]
    # Delete: the confirmation says it cannot be undone; then a tombstone, and a Delete out.
    confirm = await web.get(f"/my/assets/{uid}/delete")
    assert "This cannot be undone" in confirm.text
    deleted = await web.post(
        f"/my/assets/{uid}/delete", data={"csrf_token": hidden(confirm.text, "csrf_token")}
    )
    assert deleted.status_code == 303 and "deleted=" in deleted.headers["location"]
    assert (
        await web.get(f"/assets/{uid}", headers={"Accept": "application/ld+json"})
    ).status_code == 410
    assert uid not in (await web.get("/my")).text
    outbox = await web.get("/outbox?page=true", headers={"Accept": "application/activity+json"})
    assert outbox.status_code in (200, 404)
    # Another group's member cannot reach either page.
    web.cookies.clear()
    await sign_in(web, "bob")
    body = {"name": "Other", "kind": "fablab", "group": "coop-fab"}
    other = await web.post("/api/assets", json=body, headers=auth(admin))
    other_uid = other.json()["id"]
    assert (await web.get(f"/my/assets/{other_uid}/delete")).status_code == 403
    assert re.search("Other", (await web.get(f"/api/assets/{other_uid}")).text)
