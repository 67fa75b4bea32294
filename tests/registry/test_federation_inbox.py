"""The node actor, discovery, and the inbox: signed activities are verified, stored once and
applied by their handler; bad signatures are refused with 401 and change nothing."""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.httpsig import sign_request
from federation.tables import followers, inbox_items, outbox
from registry.core import db
from registry.runtime import Runtime
from tests.conftest import FEDERATION_DEV
from tests.registry.test_assets_api import GARDEN
from tests.remote_actor import RemoteActor, serving

BASE = "http://registry.test"


@pytest.fixture
def node(federated: tuple[httpx.AsyncClient, Runtime]) -> tuple[httpx.AsyncClient, Runtime]:
    return federated


@pytest.fixture
async def remote() -> AsyncIterator[RemoteActor]:
    async with serving(RemoteActor()) as actor:
        yield actor


async def post_signed(
    http: httpx.AsyncClient, remote: RemoteActor, activity: dict, path: str = "/inbox"
) -> httpx.Response:
    return await http.post(
        path,
        json=activity,
        auth=remote.auth(),
        headers={"Content-Type": "application/activity+json"},
    )


async def count(engine: AsyncEngine, table) -> int:  # type: ignore[no-untyped-def]
    async with db.read(engine) as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def test_actor_webfinger_nodeinfo(node: tuple[httpx.AsyncClient, Runtime]) -> None:
    http, _ = node
    actor = (await http.get("/actor", headers={"Accept": "application/activity+json"})).json()
    assert actor["type"] == "Application" and actor["preferredUsername"] == "registry"
    assert "https://www.w3.org/ns/activitystreams" in actor["@context"]
    assert actor["inbox"] == f"{BASE}/actor/inbox"
    assert actor["endpoints"]["sharedInbox"] == f"{BASE}/inbox"
    assert actor["publicKey"]["id"] == f"{BASE}/actor#main-key"
    assert "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]
    assert actor["assertionMethod"][0]["type"] == "Multikey"
    assert actor["assertionMethod"][0]["publicKeyMultibase"].startswith("z6Mk")
    assert {"discoverable", "indexable", "manuallyApprovesFollowers"} <= set(actor)
    for resource in ("acct:registry@registry.test", f"{BASE}/", f"{BASE}/actor"):
        jrd = await http.get("/.well-known/webfinger", params={"resource": resource})
        assert jrd.status_code == 200 and jrd.headers["content-type"] == "application/jrd+json"
        links = {link["rel"]: link for link in jrd.json()["links"]}
        assert links["self"]["href"] == f"{BASE}/actor"
        assert links["self"]["type"] == "application/activity+json"
        assert "http://webfinger.net/rel/profile-page" in links
    assert (
        await http.get("/.well-known/webfinger", params={"resource": "acct:nobody@registry.test"})
    ).status_code == 404
    assert (await http.get("/.well-known/webfinger")).status_code == 400
    links = (await http.get("/.well-known/nodeinfo")).json()["links"]
    rels = {link["rel"]: link["href"] for link in links}
    assert rels["https://www.w3.org/ns/activitystreams#Application"] == f"{BASE}/actor"
    info = (await http.get(rels["http://nodeinfo.diaspora.software/ns/schema/2.1"])).json()
    assert info["software"]["name"] == "commons-registry" and info["protocols"] == ["activitypub"]
    meta = await http.get("/.well-known/host-meta")
    assert "lrdd" in meta.text and meta.headers["content-type"].startswith("application/xrd+xml")
    page = await http.get("/actor", headers={"Accept": "text/html"})
    assert page.status_code == 303


async def test_follow_is_accepted_and_the_accept_delivered(
    node: tuple[httpx.AsyncClient, Runtime], remote: RemoteActor
) -> None:
    http, runtime = node
    fed = runtime.federation
    assert fed is not None
    follow = remote.activity("Follow", f"{BASE}/actor")
    response = await post_signed(http, remote, follow)
    assert response.status_code == 202, response.text
    assert await fed.processor.run_once() == 1
    async with db.read(runtime.engine) as conn:
        row = (await conn.execute(select(followers))).one()
    assert (row.actor, row.state, row.shared_inbox) == (
        remote.actor,
        "accepted",
        f"{remote.base}/inbox",
    )
    await fed.delivery.run_once()
    [accept] = remote.received
    assert accept["type"] == "Accept" and accept["object"]["id"] == follow["id"]

    # A new asset now goes to the follower, in a form Mastodon shows as a post.
    token = (
        await http.post(
            "/api/groups",
            json={"name": "G"},
            headers={"Authorization": f"Bearer {await admin(runtime)}"},
        )
    ).json()["token"]
    created = await http.post(
        "/api/assets", json=GARDEN, headers={"Authorization": f"Bearer {token}"}
    )
    await fed.delivery.run_once()
    create = remote.received[-1]
    assert create["type"] == "Create" and create["actor"] == f"{BASE}/actor"
    assert "https://www.w3.org/ns/activitystreams#Public" in create["to"]
    obj = create["object"]
    assert obj["id"] == created.json()["iri"] and obj["type"] == "Page"
    assert obj["name"] == GARDEN["name"] and obj["abstract"] == GARDEN["summary"]
    assert obj["url"] == obj["id"] and obj["attributedTo"] == f"{BASE}/actor"
    assert "https://www.w3.org/ns/activitystreams" in create["@context"]

    # Undo(Follow) removes the follower.
    undo = remote.activity("Undo", follow)
    assert (await post_signed(http, remote, undo)).status_code == 202
    await fed.processor.run_once()
    assert await count(runtime.engine, followers) == 0


async def admin(runtime: Runtime) -> str:
    from registry.people.accounts import create_admin_token

    return (await create_admin_token(runtime.engine))[1]


async def test_replayed_activity_is_applied_once(
    node: tuple[httpx.AsyncClient, Runtime], remote: RemoteActor
) -> None:
    http, runtime = node
    follow = remote.activity("Follow", f"{BASE}/actor")
    body = httpx.Request("POST", f"{BASE}/inbox", json=follow).content
    headers = sign_request(
        "POST",
        f"{BASE}/inbox",
        {"Content-Type": "application/activity+json"},
        body,
        remote.key_id,
        remote.key,
    )
    # The sender delivers again (signing anew, as senders do for each attempt): a duplicate.
    resigned = sign_request(
        "POST",
        f"{BASE}/inbox",
        {
            "Content-Type": "application/activity+json",
            "Date": email.utils.formatdate(time.time() - 1, usegmt=True),
        },
        body,
        remote.key_id,
        remote.key,
    )
    first = await http.post("/inbox", content=body, headers=headers)
    second = await http.post("/inbox", content=body, headers=resigned)
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["duplicate"] is True
    # Someone who captured the first request sends it again, byte for byte: refused.
    captured = await http.post("/inbox", content=body, headers=headers)
    assert captured.status_code == 401 and "replay" in captured.json()["detail"]
    assert await count(runtime.engine, inbox_items) == 1
    assert runtime.federation is not None
    await runtime.federation.processor.run_once()
    await runtime.federation.delivery.run_once()
    assert [a["type"] for a in remote.received] == ["Accept"]


def _tamper(kind: str, remote: RemoteActor, body: bytes) -> dict[str, str]:
    base = {"Content-Type": "application/activity+json"}
    if kind == "unsigned":
        return base
    if kind == "wrong key":
        from federation import keys

        return sign_request(
            "POST", f"{BASE}/inbox", base, body, remote.key_id, keys.generate_rsa_key()
        )
    if kind == "expired date":
        old = email.utils.formatdate(time.time() - 3 * 3600, usegmt=True)
        return sign_request(
            "POST", f"{BASE}/inbox", {**base, "Date": old}, body, remote.key_id, remote.key
        )
    signed = sign_request("POST", f"{BASE}/inbox", base, body, remote.key_id, remote.key)
    if kind == "digest mismatch":
        return {**signed, "Digest": "SHA-256=" + "A" * 43 + "="}
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["unsigned", "wrong key", "expired date", "digest mismatch", "body changed"]
)
async def test_bad_signatures_are_401_and_change_nothing(
    node: tuple[httpx.AsyncClient, Runtime], remote: RemoteActor, kind: str
) -> None:
    http, runtime = node
    body = httpx.Request("POST", "/", json=remote.activity("Follow", f"{BASE}/actor")).content
    if kind == "body changed":
        headers = sign_request(
            "POST",
            f"{BASE}/inbox",
            {"Content-Type": "application/activity+json"},
            body,
            remote.key_id,
            remote.key,
        )
        body = body.replace(b"Follow", b"Follox")
    else:
        headers = _tamper(kind, remote, body)
    response = await http.post("/inbox", content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]
    assert await count(runtime.engine, inbox_items) == 0
    assert await count(runtime.engine, outbox) == 0


async def test_signer_must_be_the_actor(
    node: tuple[httpx.AsyncClient, Runtime], remote: RemoteActor
) -> None:
    http, runtime = node
    forged = remote.activity("Follow", f"{BASE}/actor", actor="http://127.0.0.1:1/users/victim")
    forged["id"] = "http://127.0.0.1:1/users/victim/follow"
    response = await post_signed(http, remote, forged)
    assert response.status_code == 401 and "actor" in response.json()["detail"]
    assert await count(runtime.engine, inbox_items) == 0


async def test_manual_approval(make_app: Callable[..., object], remote: RemoteActor) -> None:
    app = make_app(federation={**FEDERATION_DEV, "manually_approves_followers": True})
    runtime: Runtime = app.state.runtime  # type: ignore[attr-defined]
    fed = await runtime.start_federation(run_workers=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url=BASE,
    ) as http:
        await post_signed(http, remote, remote.activity("Follow", f"{BASE}/actor"))
        await fed.processor.run_once()
        await fed.delivery.run_once()
        assert remote.received == []
        headers = {"Authorization": f"Bearer {await admin(runtime)}"}
        pending = (await http.get("/api/federation/followers", headers=headers)).json()["items"]
        assert [p["state"] for p in pending] == ["pending"]
        response = await http.post(
            "/api/federation/followers/decide",
            headers=headers,
            json={"actor": remote.actor, "action": "approve"},
        )
        assert response.status_code == 200
        await fed.delivery.run_once()
        assert [a["type"] for a in remote.received] == ["Accept"]
    await runtime.stop_federation()


async def test_blocked_domain_is_refused(
    make_app: Callable[..., object], remote: RemoteActor
) -> None:
    app = make_app(federation={**FEDERATION_DEV, "blocked_domains": ["127.0.0.1"]})
    runtime: Runtime = app.state.runtime  # type: ignore[attr-defined]
    await runtime.start_federation(run_workers=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url=BASE,
    ) as http:
        response = await post_signed(http, remote, remote.activity("Follow", f"{BASE}/actor"))
        assert response.status_code == 403
    assert await count(runtime.engine, inbox_items) == 0
    await runtime.stop_federation()


async def test_unknown_activity_types_are_recorded_and_ignored(
    node: tuple[httpx.AsyncClient, Runtime], remote: RemoteActor
) -> None:
    http, runtime = node
    assert runtime.federation is not None
    response = await post_signed(http, remote, remote.activity("Wave", "hello"))
    assert response.status_code == 202
    await runtime.federation.processor.run_once()
    async with db.read(runtime.engine) as conn:
        row = (await conn.execute(select(inbox_items))).one()
    assert row.state == "ignored" and "Wave" in row.result
