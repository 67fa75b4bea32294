"""Moderation that sees what it decides: the diff of a waiting change, a reason required to
reject (and shown to the member), confirmation before destructive admin actions, and
federation errors in plain words; in process, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.people import accounts
from tests.conftest import BASE_URL
from tests.web.test_sessions_and_forms import csrf_of, hidden, sign_in


async def test_queue_shows_the_diff_and_rejecting_needs_a_reason(
    web: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, str], auth: Callable
) -> None:
    _, admin = await accounts.create_admin_token(engine)
    created = await web.post(
        "/api/assets",
        json={"name": "Taller Nord", "kind": "fablab", "summary": "Old words", "group": "coop-fab"},
        headers=auth(admin),
    )
    uid = created.json()["id"]
    await sign_in(web, "alice")
    edited = await web.post(
        f"/my/assets/{uid}/edit",
        data={"csrf_token": await csrf_of(web), "name": "Taller Nord", "kind": "fablab",
              "summary": "New words", "website": "https://nord.example/"},
    )  # fmt: skip
    assert edited.status_code == 303
    web.cookies.clear()
    await sign_in(web, "root")
    queue = (await web.get("/admin")).text
    diff = queue[queue.index('<table class="diff">') : queue.index("</table>")]
    rows = re.findall(r'<th scope="row">([^<]+)</th>', diff)
    assert rows == ["Summary", "Website"]
    assert "<del>Old words</del>" in diff and "<ins>New words</ins>" in diff
    assert "See its public page" in queue
    # Rejecting without a reason is refused beside the reason input; nothing changes.
    token = hidden(queue, "csrf_token")
    refused = await web.post(
        f"/admin/moderation/{uid}", data={"csrf_token": token, "action": "reject", "reason": " "}
    )
    assert refused.status_code == 422
    assert f'id="reason-{uid}-error"' in refused.text and "Say why" in refused.text
    still = await web.get(f"/api/assets/{uid}", headers=auth(admin))
    assert still.json()["moderation"]["pending_change"] is True
    done = await web.post(
        f"/admin/moderation/{uid}",
        data={"csrf_token": token, "action": "reject", "reason": "The website is not theirs"},
    )
    assert done.status_code == 303
    # The member sees that the change was not accepted, and why.
    web.cookies.clear()
    await sign_in(web, "alice")
    mine = (await web.get("/my")).text
    assert "Your last change was not accepted" in mine and "The website is not theirs" in mine


async def test_destructive_admin_actions_ask_first(
    web: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, str]
) -> None:
    number, token = await accounts.create_admin_token(engine)
    token_id = str(number)
    await sign_in(web, "root")
    page = (await web.get("/admin/tokens")).text
    assert f'name="id" value="{token_id}"' in page
    csrf = hidden(page, "csrf_token")
    # The first post only asks; the token still works.
    asked = await web.post(
        "/admin/tokens", data={"csrf_token": csrf, "action": "revoke", "id": token_id}
    )
    assert asked.status_code == 200 and f"Revoke token {token_id}?" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text
    headers = {"Authorization": f"Bearer {token}"}
    assert (await web.get("/api/assets?moderation=all", headers=headers)).status_code == 200
    confirmed = await web.post(
        "/admin/tokens",
        data={"csrf_token": hidden(asked.text, "csrf_token"), "action": "revoke", "id": token_id,
              "confirmed": "yes"},
    )  # fmt: skip
    assert confirmed.status_code == 303
    assert (await web.get("/api/assets?moderation=all", headers=headers)).status_code == 401
    # Blocking a domain asks too, and keeps the reason typed.
    asked = await web.post(
        "/admin/domain-blocks",
        data={"csrf_token": csrf, "action": "block", "domain": "spam.example", "reason": "spam"},
    )
    assert "Block spam.example?" in asked.text and 'name="reason" value="spam"' in asked.text
    assert "spam.example" not in (await web.get("/admin/domain-blocks")).text.split("<form")[0]


async def test_partner_errors_are_plain(
    make_app: Callable[..., object], engine: AsyncEngine, people: dict[str, str]
) -> None:
    app = make_app()
    runtime = app.state.runtime  # type: ignore[attr-defined]
    await runtime.start_federation(run_workers=False)
    try:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as web:
            await sign_in(web, "root")
            csrf = hidden((await web.get("/admin/partners")).text, "csrf_token")
            page = await web.post(
                "/admin/partners",
                data={
                    "csrf_token": csrf,
                    "action": "add",
                    "target": "https://no-such-node.invalid",
                },
            )
            assert page.status_code == 422
            alert = re.search(r'role="alert">([^<]+)<', page.text).group(1)
            assert "Errno" not in alert and alert in (
                "No server answers to that name. Check the spelling of the address.",
                "That address is on a private network; partner nodes must be public servers.",
            ), alert
            assert "Technical detail" in page.text
    finally:
        await runtime.stop_federation()
