"""Moderation: submissions wait for an admin when the node asks for it; domain blocks,
suspensions and revocations, from the API and the CLI, all in the admin log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.tables import deliveries, followers, inbox_items
from federation.tables import following as follows_table
from registry.cli import main
from registry.core import db
from registry.core.errors import Unprocessable
from registry.core.schema import assets
from registry.fediverse import blocks, following
from registry.people import admin_log
from registry.runtime import Runtime
from tests.nodes import eventually
from tests.registry.test_assets_api import GARDEN
from tests.registry.test_federation_inbox import post_signed
from tests.remote_actor import RemoteActor, serving


@pytest.fixture
async def moderated(make_app: Callable[..., object]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(moderation={"require_approval": True})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://registry.test",
    ) as http:
        yield http


async def test_submission_waits_then_admin_approves(
    moderated: httpx.AsyncClient, group_token: str, admin_token: str, auth: Callable[[str], dict]
) -> None:
    created = (await moderated.post("/api/assets", json=GARDEN, headers=auth(group_token))).json()
    assert created["moderation"]["state"] == "pending"
    uid = created["id"]
    assert (await moderated.get(f"/api/assets/{uid}")).status_code == 404
    assert (await moderated.get("/api/assets")).json()["items"] == []
    mine = (
        await moderated.get(
            "/api/assets", params={"moderation": "pending"}, headers=auth(group_token)
        )
    ).json()
    assert [a["id"] for a in mine["items"]] == [uid]
    queue = (await moderated.get("/api/moderation/queue", headers=auth(admin_token))).json()
    assert [a["id"] for a in queue["items"]] == [uid]
    assert (
        await moderated.post(f"/api/assets/{uid}/approve", headers=auth(group_token))
    ).status_code == 403
    approved = await moderated.post(f"/api/assets/{uid}/approve", headers=auth(admin_token))
    assert approved.json()["moderation"]["state"] == "published"
    assert (await moderated.get(f"/api/assets/{uid}")).status_code == 200


async def test_rejection_needs_a_reason_and_is_shown_to_the_group(
    moderated: httpx.AsyncClient, group_token: str, admin_token: str, auth: Callable[[str], dict]
) -> None:
    uid = (await moderated.post("/api/assets", json=GARDEN, headers=auth(group_token))).json()["id"]
    response = await moderated.post(f"/api/assets/{uid}/reject", json={}, headers=auth(admin_token))
    assert response.status_code == 422
    response = await moderated.post(
        f"/api/assets/{uid}/reject",
        json={"reason": "Please add an address"},
        headers=auth(admin_token),
    )
    assert response.json()["moderation"] == {
        "state": "rejected",
        "reason": "Please add an address",
        "pending_change": False,
    }
    seen = (await moderated.get(f"/api/assets/{uid}", headers=auth(group_token))).json()
    assert seen["moderation"]["reason"] == "Please add an address"
    fixed = await moderated.patch(
        f"/api/assets/{uid}", json={"summary": "With address"}, headers=auth(group_token)
    )
    assert fixed.json()["moderation"]["state"] == "pending"


async def test_edit_of_published_asset_waits_while_old_version_stays(
    moderated: httpx.AsyncClient, group_token: str, admin_token: str, auth: Callable[[str], dict]
) -> None:
    uid = (await moderated.post("/api/assets", json=GARDEN, headers=auth(group_token))).json()["id"]
    await moderated.post(f"/api/assets/{uid}/approve", headers=auth(admin_token))
    edited = await moderated.patch(
        f"/api/assets/{uid}", json={"name": "New name"}, headers=auth(group_token)
    )
    assert edited.json()["moderation"]["pending_change"] is True
    assert (await moderated.get(f"/api/assets/{uid}")).json()["name"] == GARDEN["name"]
    await moderated.post(f"/api/assets/{uid}/approve", headers=auth(admin_token))
    assert (await moderated.get(f"/api/assets/{uid}")).json()["name"] == "New name"


# -- domain blocks, suspensions, the admin log -------------------------------------------------


@pytest.fixture
async def remote() -> AsyncIterator[RemoteActor]:
    async with serving(RemoteActor()) as actor:
        yield actor


async def rows(engine: AsyncEngine, table: Any, *where: Any) -> list[Any]:
    async with db.read(engine) as conn:
        return list(await conn.execute(select(table).where(*where)))


def test_domains_are_normalised_and_cover_their_subdomains() -> None:
    assert blocks.normalize_domain("*.Bücher.Example.") == "xn--bcher-kva.example"
    assert blocks.normalize_domain("https://EVIL.example/users/x") == "evil.example"
    assert blocks.normalize_domain("@someone@Evil.Example") == "evil.example"
    blocked = {"evil.example", "xn--bcher-kva.example", "127.0.0.1:9999"}
    assert blocks.covers(blocked, "evil.example")
    assert blocks.covers(blocked, "a.b.evil.example:8443")
    assert blocks.covers(blocked, "shop.xn--bcher-kva.example")
    assert not blocks.covers(blocked, "notevil.example")
    assert not blocks.covers(blocked, "evil.example.org")
    assert not blocks.covers(blocked, "xn--vil-wdd.example")  # Cyrillic е: another host
    assert blocks.covers(blocked, "127.0.0.1:9999")
    assert not blocks.covers(blocked, "127.0.0.1:9998")
    with pytest.raises(Unprocessable):
        blocks.normalize_domain("not a domain!")


async def test_admin_api_blocks_and_unblocks_domains(
    client: httpx.AsyncClient,
    admin_token: str,
    group_token: str,
    auth: Callable[[str], dict],
) -> None:
    url = "/api/admin/domain-blocks"
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=auth(group_token))).status_code == 403
    for body in ({}, {"domain": "no spaces allowed"}, {"domain": "ok.example", "reason": 3}):
        bad = await client.post(url, json=body, headers=auth(admin_token))
        assert bad.status_code == 422, body
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["errors"]
    made = await client.post(
        url, json={"domain": "Bücher.Example", "reason": "spam"}, headers=auth(admin_token)
    )
    assert made.status_code == 201, made.text
    assert made.json()["domain"] == "xn--bcher-kva.example"
    assert made.json()["created_by"].startswith("admin (token #")
    listed = (await client.get(url, headers=auth(admin_token))).json()["items"]
    assert [(b["domain"], b["reason"]) for b in listed] == [("xn--bcher-kva.example", "spam")]
    gone = await client.delete(f"{url}/bücher.example", headers=auth(admin_token))
    assert gone.status_code == 204
    again = await client.delete(f"{url}/bücher.example", headers=auth(admin_token))
    assert again.status_code == 404 and again.headers["content-type"] == "application/problem+json"
    log = (await client.get("/api/admin/log", headers=auth(admin_token))).json()["items"]
    assert [(e["action"], e["target"]) for e in log] == [
        ("domain.unblock", "xn--bcher-kva.example"),
        ("domain.block", "xn--bcher-kva.example"),
    ]
    spec = (await client.get("/api/openapi.json")).json()["paths"]
    assert {"get", "post"} <= set(spec[url]) and "delete" in spec[f"{url}/{{domain}}"]
    assert "get" in spec["/api/admin/log"]


async def test_suspension_and_revocation_are_logged(
    client: httpx.AsyncClient, engine: AsyncEngine, admin_token: str, group_token: str, auth
) -> None:
    suspended = await client.post(
        "/api/groups/coop-fab/suspension", json={"reason": "abuse"}, headers=auth(admin_token)
    )
    assert suspended.json()["suspended"] is True
    assert (await client.get("/api/me", headers=auth(group_token))).status_code == 403
    await client.delete("/api/groups/coop-fab/suspension", headers=auth(admin_token))
    assert (await client.get("/api/me", headers=auth(group_token))).status_code == 200
    me = (await client.get("/api/me", headers=auth(group_token))).json()
    revoked = await client.delete(f"/api/tokens/{me['token']}", headers=auth(admin_token))
    assert revoked.json()["revoked"]
    await client.delete(f"/api/tokens/{me['token']}", headers=auth(admin_token))  # once only
    assert (await client.get("/api/me", headers=auth(group_token))).status_code == 401
    log = await admin_log.list_admin_log(engine)
    assert [(e.action, e.target) for e in reversed(log)] == [
        ("group.suspend", "coop-fab"),
        ("group.unsuspend", "coop-fab"),
        ("token.revoke", f"token #{me['token']}"),
    ]
    assert log[-1].detail == "abuse" and log[0].actor.startswith("admin (token #")


async def test_block_purges_subdomains_only(engine: AsyncEngine) -> None:
    hosts = [
        "evil.example",
        "a.evil.example",
        "evil.example:8443",
        "notevil.example",
        "evil.example.org",
    ]
    async with db.write(engine) as conn:
        for i, host in enumerate(hosts):
            await conn.execute(
                insert(followers).values(
                    actor=f"https://{host}/u/{i}",
                    host=host,
                    inbox=f"https://{host}/inbox",
                    follow_id=f"https://{host}/f/{i}",
                    state="accepted",
                    created_at=datetime.now(UTC),
                )
            )
    await blocks.block_domain(engine, "EVIL.example", reason="", by="test")
    left = sorted(r.host for r in await rows(engine, followers))
    assert left == ["evil.example.org", "notevil.example"]
    [entry] = await admin_log.list_admin_log(engine)
    assert "3 followers" in entry.detail


async def test_block_refuses_activities_and_purges_what_it_held(
    federated: tuple[httpx.AsyncClient, Runtime],
    remote: RemoteActor,
    admin_token: str,
    group_token: str,
    auth: Callable[[str], dict],
) -> None:
    http, runtime = federated
    fed = runtime.federation
    assert fed is not None
    engine = runtime.engine
    remote_host = f"127.0.0.1:{remote.port}"
    # It follows us; we follow it; we hold an asset mirrored from it; a delivery is queued.
    follow = remote.activity("Follow", "http://registry.test/actor")
    assert (await post_signed(http, remote, follow)).status_code == 202
    await fed.processor.run_once()
    await following.follow(fed, remote.actor)
    uid = (await http.post("/api/assets", json=GARDEN, headers=auth(group_token))).json()["id"]
    async with db.write(engine) as conn:
        await conn.execute(
            update(assets)
            .where(assets.c.uid == uid)
            .values(origin=remote_host, iri=f"{remote.base}/assets/1", group_id=None)
        )
    assert len(await rows(engine, followers)) == 1
    assert len(await rows(engine, deliveries, deliveries.c.state == "pending")) >= 1
    found = await http.get("/api/assets", params={"q": GARDEN["name"], "origin": "all"})
    assert found.json()["items"]

    response = await http.post(
        "/api/admin/domain-blocks",
        json={"domain": remote_host, "reason": "harassment"},
        headers=auth(admin_token),
    )
    assert response.status_code == 201
    assert await rows(engine, followers) == []
    assert await rows(engine, follows_table) == []
    assert await rows(engine, assets, assets.c.uid == uid) == []
    assert await rows(engine, deliveries, deliveries.c.state == "pending") == []
    found = await http.get("/api/assets", params={"q": GARDEN["name"], "origin": "all"})
    assert found.json()["items"] == []
    again = remote.activity("Follow", "http://registry.test/actor", suffix="2")
    refused = await post_signed(http, remote, again)
    assert refused.status_code == 403 and "not accepted" in refused.json()["detail"]
    [entry] = await admin_log.list_admin_log(engine)
    assert entry.action == "domain.block" and "1 assets" in entry.detail
    assert "1 followers" in entry.detail and "1 following" in entry.detail
    with pytest.raises(Unprocessable):
        await following.follow(fed, remote.actor)

    await http.delete(f"/api/admin/domain-blocks/{remote_host}", headers=auth(admin_token))
    assert (await post_signed(http, remote, again)).status_code == 202


async def test_a_block_made_elsewhere_wins_at_once_in_the_worker(
    federated: tuple[httpx.AsyncClient, Runtime], remote: RemoteActor
) -> None:
    """Another process blocks: this one's cache is stale for a moment, so the inbox may
    still take an activity, but the worker checks the table and does not apply it; then the
    cache catches up and the inbox refuses."""
    http, runtime = federated
    fed = runtime.federation
    assert fed is not None
    await fed.blocklist.stop()  # freeze this process's copy
    elsewhere = db.create_engine(runtime.settings.database_url)  # as another process would
    try:
        await blocks.block_domain(elsewhere, "127.0.0.1", reason="", by="other process")
    finally:
        await elsewhere.dispose()
    assert not fed.blocked(f"127.0.0.1:{remote.port}")
    follow = remote.activity("Follow", "http://registry.test/actor")
    assert (await post_signed(http, remote, follow)).status_code == 202
    await fed.processor.run_once()
    [item] = await rows(runtime.engine, inbox_items)
    assert item.state == "ignored" and "blocked" in item.result
    assert await rows(runtime.engine, followers) == []

    fed.blocklist.interval = 0.05
    fed.blocklist.start()
    await eventually(lambda: _blocked(fed, remote), timeout=5, what="the cache to catch up")
    later = remote.activity("Follow", "http://registry.test/actor", suffix="2")
    assert (await post_signed(http, remote, later)).status_code == 403


async def _blocked(fed: Any, remote: RemoteActor) -> bool:
    return fed.blocked(f"127.0.0.1:{remote.port}")


def test_cli_blocks_unblocks_and_lists(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("COMMONS_DATABASE_URL", database_url)
    monkeypatch.setenv("COMMONS_NODE_DATA_DIR", str(tmp_path))
    assert main(["block", "Spam.Example", "--reason", "spam waves"]) == 0
    assert "spam.example blocked" in capsys.readouterr().out
    assert main(["blocks"]) == 0
    out = capsys.readouterr().out
    assert "spam.example" in out and "spam waves" in out and "cli" in out
    assert main(["unblock", "spam.example"]) == 0
    assert main(["unblock", "spam.example"]) == 1
    assert "not blocked" in capsys.readouterr().err
    assert main(["block", "bad domain!"]) == 1
    assert "not a domain" in capsys.readouterr().err
