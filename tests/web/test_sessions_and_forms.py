"""Sign-in, sessions, CSRF, who may see which page, and the asset form, in process (no browser)
on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import vocab
from registry import cli
from registry.config import Settings
from registry.http.pages import session as web_session
from registry.people import accounts, members
from registry.web import forms
from tests.conftest import BASE_URL
from tests.web.conftest import PASSWORD


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name} in the page"
    return found.group(1)


async def sign_in(http: httpx.AsyncClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    form = await http.get("/signin")
    return await http.post(
        "/signin",
        data={
            "signin_token": hidden(form.text, "signin_token"),
            "username": username,
            "password": password,
            "next": "",
        },
    )


async def csrf_of(http: httpx.AsyncClient, path: str = "/my/assets/new") -> str:
    return hidden((await http.get(path)).text, "csrf_token")


async def test_sign_in_sets_a_protected_cookie_and_sign_out_ends_the_session(
    web: httpx.AsyncClient, people: dict[str, str]
) -> None:
    assert (await sign_in(web, "alice", "wrong password")).status_code == 401
    response = await sign_in(web, "alice")
    assert response.status_code == 303 and response.headers["location"] == f"{BASE_URL}/my"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(web_session.COOKIE)
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # the base URL is plain http
    my = await web.get("/my")
    assert my.status_code == 200 and "private" in my.headers["cache-control"]
    stolen = web.cookies.get(web_session.COOKIE)
    out = await web.post("/signout", data={"csrf_token": await csrf_of(web)})
    assert out.status_code == 303
    # The old cookie is worth nothing once signed out.
    web.cookies.set(web_session.COOKIE, stolen)
    assert (await web.get("/my")).headers["location"].startswith(f"{BASE_URL}/signin")


async def test_cookie_is_secure_on_https(
    make_app: Callable[..., object], settings: Settings, people: dict[str, str]
) -> None:
    app = make_app(node={"base_url": "https://registry.test"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="https://registry.test",
    ) as http:
        response = await sign_in(http, "alice")
    assert response.status_code == 303
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(web_session.COOKIE)
    )
    assert "Secure" in cookie


async def test_every_post_needs_the_csrf_token_and_our_origin(
    web: httpx.AsyncClient, people: dict[str, str]
) -> None:
    await sign_in(web, "alice")
    token = await csrf_of(web)
    body = {"name": "Fab Lab", "kind": "fablab"}
    assert (await web.post("/my/assets/new", data=body)).status_code == 403
    wrong = {**body, "csrf_token": token[:-2] + "xx"}
    assert (await web.post("/my/assets/new", data=wrong)).status_code == 403
    elsewhere = await web.post(
        "/my/assets/new",
        data={**body, "csrf_token": token},
        headers={"Origin": "https://attacker.example"},
    )
    assert elsewhere.status_code == 403
    assert (await web.post("/signout", data={})).status_code == 403
    ok = await web.post(
        "/my/assets/new", data={**body, "csrf_token": token}, headers={"Origin": BASE_URL}
    )
    assert ok.status_code == 303


async def test_oversized_forms_are_refused_unread(
    web: httpx.AsyncClient, people: dict[str, str], settings: Settings
) -> None:
    await sign_in(web, "alice")
    huge = {"csrf_token": await csrf_of(web), "description": "x" * settings.server.max_body_bytes}
    response = await web.post("/my/assets/new", data=huge)
    assert response.status_code == 413


async def test_sign_in_form_needs_its_token(web: httpx.AsyncClient, people: dict[str, str]) -> None:
    response = await web.post("/signin", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert web_session.COOKIE not in response.headers.get("set-cookie", "")


async def test_disabled_member_and_suspended_group_lose_their_sessions(
    web: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, str]
) -> None:
    await sign_in(web, "alice")
    assert (await web.get("/my")).status_code == 200
    await accounts.set_group_suspended(engine, "coop-fab", True, by="test")
    assert (await web.get("/my")).status_code == 303
    assert (await sign_in(web, "alice")).status_code == 401
    await accounts.set_group_suspended(engine, "coop-fab", False, by="test")
    web.cookies.clear()
    assert (await sign_in(web, "alice")).status_code == 303
    await members.disable_member(engine, "alice")
    assert (await web.get("/my")).status_code == 303
    assert (await sign_in(web, "alice")).status_code == 401


async def test_repeated_failures_are_refused_for_a_while(
    web: httpx.AsyncClient, people: dict[str, str]
) -> None:
    for _ in range(web_session.FAILURES_ALLOWED):
        assert (await sign_in(web, "alice", "guess")).status_code == 401
    assert (await sign_in(web, "alice")).status_code == 429  # even the right password


async def test_members_reach_only_their_pages(
    web: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, str]
) -> None:
    assert (await web.get("/admin")).status_code == 303  # to the sign-in page
    await sign_in(web, "bob")
    for path in ("/admin", "/admin/tokens", "/admin/domain-blocks"):
        assert (await web.get(path, headers={"Accept": "text/html"})).status_code == 403
    # bob (jardi) cannot edit alice's group's asset, even a published one.
    svc_asset = await _published(web, engine, "coop-fab")
    page = await web.get(f"/my/assets/{svc_asset}/edit", headers={"Accept": "text/html"})
    assert page.status_code == 403
    post = await web.post(
        f"/my/assets/{svc_asset}/edit",
        data={"csrf_token": await csrf_of(web), "name": "Mine now", "kind": "fablab"},
    )
    assert post.status_code == 403


async def _published(web: httpx.AsyncClient, engine: AsyncEngine, group: str) -> str:
    _, token = await accounts.create_admin_token(engine)
    created = await web.post(
        "/api/assets",
        json={"name": "Fab Lab Poblenou", "kind": "fablab", "group": group},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def test_form_errors_sit_beside_their_inputs_and_values_are_kept(
    web: httpx.AsyncClient, people: dict[str, str]
) -> None:
    await sign_in(web, "alice")
    typed = {
        "csrf_token": await csrf_of(web),
        "name": "Fab <b>Lab</b>",
        "kind": "fablab",
        "latitude": "41.4",  # without a longitude
        "tags": "ok\nnot ok",
        "email": "nobody",
    }
    response = await web.post("/my/assets/new", data=typed)
    assert response.status_code == 422
    html = response.text
    for column in ("longitude", "tags", "email"):
        assert f'id="f-{column}-error"' in html
        assert re.search(rf'id="f-{column}"[^>]*aria-invalid="true"', html)
    assert "line 2:" in html  # the second tag is the bad one
    assert 'value="Fab &lt;b&gt;Lab&lt;/b&gt;"' in html
    assert 'value="41.4"' in html and ">ok\nnot ok</textarea>" in html


async def test_markup_in_names_and_summaries_is_text(
    web: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, str]
) -> None:
    _, token = await accounts.create_admin_token(engine)
    created = await web.post(
        "/api/assets",
        json={
            "name": "<script>alert(1)</script>Lab",
            "kind": "fablab",
            "summary": '<img src=x onerror="alert(2)">',
            "group": "coop-fab",
            "location": {"latitude": 41.4, "longitude": 2.19},
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    uid = created.json()["id"]
    await sign_in(web, "alice")
    pages = [f"/assets/{uid}", "/search?q=lab", "/my", f"/my/assets/{uid}/edit"]
    for path in pages:
        html = (await web.get(path, headers={"Accept": "text/html"})).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;Lab" in html, path


async def test_member_edit_keeps_moderation_and_shows_state(
    web: httpx.AsyncClient, engine: AsyncEngine, people: dict[str, str]
) -> None:
    await sign_in(web, "alice")
    token = await csrf_of(web)
    created = await web.post(
        "/my/assets/new", data={"csrf_token": token, "name": "Tool shed", "kind": "tool-library"}
    )
    uid = created.headers["location"].rsplit("=", 1)[1]
    assert "Waiting for approval" in (await web.get("/my")).text
    form = await web.get(f"/my/assets/{uid}/edit")
    assert 'value="Tool shed"' in form.text
    edited = await web.post(
        f"/my/assets/{uid}/edit",
        data={"csrf_token": token, "name": "Tool shed of Gràcia", "kind": "tool-library"},
    )
    assert edited.status_code == 303
    assert "Tool shed of Gràcia" in (await web.get("/my")).text
    # an admin rejects it with a reason; the member sees the reason
    web.cookies.clear()
    await sign_in(web, "root")
    queue = await web.get("/admin")
    assert "Tool shed of Gràcia" in queue.text
    rejected = await web.post(
        f"/admin/moderation/{uid}",
        data={"csrf_token": hidden(queue.text, "csrf_token"), "action": "reject", "reason": "dup"},
    )
    assert rejected.status_code == 303
    web.cookies.clear()
    await sign_in(web, "alice")
    mine = (await web.get("/my")).text
    assert "Not accepted" in mine and "dup" in mine


def test_form_round_trip_matches_the_record() -> None:
    record = vocab.validate_asset_input(
        {
            "name": "Fab Lab; Poblenou",
            "kind": "fablab",
            "tags": ["a", "b"],
            "opening_hours": ["Mo-Fr 10:00-20:00; Sa 10:00-14:00"],
            "public_access": False,
            "capacity": 30,
            "location": {"latitude": 41.39, "longitude": 2.19, "country": "ES"},
            "steward": {"name": "Coop", "id": "https://coop.example/"},
            "geometry": {"type": "Point", "coordinates": [2.19, 41.39]},
        }
    )
    assert vocab.validate_asset_input(forms.to_input(forms.from_record(record))) == record
    assert len(forms.INPUTS) == sum(len(s.inputs) for s in forms.grouped_inputs())


def test_member_command(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMMONS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COMMONS_NODE_DATA_DIR", settings.node.data_dir)
    monkeypatch.delenv("COMMONS_CONFIG", raising=False)
    monkeypatch.chdir(settings.node.data_dir)
    assert cli.main(["group", "create", "Coop", "--slug", "coop"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["member", "create", "carol", "--group", "coop", "--password-stdin"]) == 1
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["member", "create", "Carol", "--group", "coop", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["member", "create", "dave", "--admin", "--password-stdin"]) == 0
    assert cli.main(["member", "disable", "carol"]) == 0
    capsys.readouterr()
    assert cli.main(["member", "list"]) == 0
    listed = capsys.readouterr().out
    assert "carol\tcoop" in listed and "(disabled)" in listed and "dave\tadmin" in listed
    with pytest.raises(SystemExit):  # --group or --admin is required
        cli.main(["member", "create", "erin", "--password-stdin"])


def test_settings_have_a_web_section(settings: Settings) -> None:
    tiles = replace(settings.web, tile_url="https://{s}.tile.example/{z}/{x}/{y}.png")
    from registry.web.render import csp

    assert "img-src 'self' data: https://*.tile.example;" in csp(tiles.tile_url)
    assert "img-src 'self' data:;" in csp("")
