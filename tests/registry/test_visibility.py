"""The visibility rule through every output: one asset per visibility (public, unlisted,
partners, group) of one group, and each output asked by the public, by a partner node (an HTTP
signature of a partner's actor, served on 127.0.0.1), and by the group's own people. Each
output has its own test, so dropping the rule from any one of them fails one."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from federation.actors import RemoteActor as KnownActor
from federation.follows import ACCEPTED, record_follower
from federation.tables import deliveries, outbox
from registry.catalog import visibility
from registry.core import db
from registry.core.schema import assets
from registry.fediverse import copy_reading, group_actors, mirror
from registry.http.pages.session import COOKIE
from registry.people import members
from tests.registry.test_assets_api import GARDEN
from tests.registry.test_security_helpers import Partner
from tests.remote_actor import serving
from vocab.namespaces import AS_PUBLIC

NAMES = {
    "public": "Alpha public garden",
    "unlisted": "Bravo unlisted garden",
    "partners": "Charlie partners garden",
    "group": "Delta group garden",
}
ALL = set(NAMES)
OPEN = {"public", "unlisted"}


@dataclass
class Scene:
    http: httpx.AsyncClient
    runtime: Any
    token: str
    other_token: str
    partner: Partner
    stranger: Partner
    uids: dict[str, str]
    iris: dict[str, str]
    cookie: str

    def seen(self, text: str) -> set[str]:
        """Which of the four assets a text (a page, an export) shows, by name."""
        return {vis for vis, name in NAMES.items() if name in text}


def _known(remote: Partner) -> KnownActor:
    return KnownActor(
        iri=remote.actor,
        host=f"127.0.0.1:{remote.port}",
        type="Service",
        preferred_username=remote.name,
        name=remote.name,
        inbox=f"{remote.actor}/inbox",
        shared_inbox=f"{remote.base}/inbox",
        outbox=None,
        document=remote.document(),
    )


@pytest.fixture
async def scene(federated, group_token, other_token_fixture, engine) -> Any:  # type: ignore[no-untyped-def]
    http, runtime = federated
    async with (
        serving(Partner(name="partner")) as partner,
        serving(Partner(name="stranger")) as stranger,
    ):
        runtime.federation.partner_hosts.add(f"127.0.0.1:{partner.port}")
        async with db.write(engine) as conn:
            for remote in (partner, stranger):
                await record_follower(conn, _known(remote), f"{remote.actor}#follow", ACCEPTED)
        uids, iris = {}, {}
        for vis, name in NAMES.items():
            response = await http.post(
                "/api/assets",
                json={**GARDEN, "name": name, "visibility": vis},
                headers={"Authorization": f"Bearer {group_token}"},
            )
            assert response.status_code == 201, response.text
            assert response.json()["visibility"] == vis
            uids[vis], iris[vis] = response.json()["id"], response.json()["iri"]
        member = await members.create_member(
            engine, "alice", "a long passphrase 1", group_slug="coop-fab"
        )
        secret, _ = await members.start_session(engine, member, 1)
        yield Scene(
            http, runtime, group_token, other_token_fixture, partner, stranger, uids, iris, secret
        )


@pytest.fixture
async def other_token_fixture(other_group_token: str) -> str:
    return other_group_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _get(scene: Scene, path: str, who: str, **headers: str) -> httpx.Response:
    """`path` asked by `who`: anyone, partner (signed), stranger (signed, not a partner),
    member (signed in to the web), token (the group's bearer token), other (another group)."""
    auth = None
    scene.http.cookies.clear()
    if who == "partner":
        auth = scene.partner.auth()
    elif who == "stranger":
        auth = scene.stranger.auth()
    elif who == "member":
        scene.http.cookies.set(COOKIE, scene.cookie)
    elif who == "token":
        headers = {**headers, **bearer(scene.token)}
    elif who == "other":
        headers = {**headers, **bearer(scene.other_token)}
    return await scene.http.get(path, headers=headers, auth=auth)


# -- one reader per output: which of the four assets does it show to `who`? ----------------

Reader = Callable[[Scene, str], Awaitable[set[str]]]


async def html_pages(scene: Scene, who: str) -> set[str]:
    shown = set()
    for vis, uid in scene.uids.items():
        response = await _get(scene, f"/assets/{uid}", who, accept="text/html")
        if response.status_code == 200 and NAMES[vis] in response.text:
            shown.add(vis)
    return shown


async def jsonld_documents(scene: Scene, who: str) -> set[str]:
    shown = set()
    for vis, uid in scene.uids.items():
        for path in (f"/assets/{uid}", f"/assets/{uid}.jsonld"):
            response = await _get(scene, path, who, accept="application/activity+json")
            if response.status_code == 200 and NAMES[vis] in response.text:
                shown.add(vis)
    return shown


async def api_get(scene: Scene, who: str) -> set[str]:
    shown = set()
    for vis, uid in scene.uids.items():
        response = await _get(scene, f"/api/assets/{uid}", who)
        if response.status_code == 200:
            shown.add(vis)
        else:
            assert response.status_code == 404, response.text
    return shown


async def api_search(scene: Scene, who: str) -> set[str]:
    response = await _get(scene, "/api/assets?q=garden&limit=50", who)
    assert response.status_code == 200, response.text
    return scene.seen(orjson.dumps(response.json()["items"]).decode())


async def search_page(scene: Scene, who: str) -> set[str]:
    return scene.seen((await _get(scene, "/search?q=garden", who, accept="text/html")).text)


async def map_data(scene: Scene, who: str) -> set[str]:
    body = (await _get(scene, "/api/map?zoom=3", who)).json()
    return scene.seen(orjson.dumps(body["points"]).decode())


async def dcat(scene: Scene, who: str) -> set[str]:
    return scene.seen((await _get(scene, "/dcat/catalog.jsonld", who)).text)


async def geojson(scene: Scene, who: str) -> set[str]:
    return scene.seen((await _get(scene, "/api/assets.geojson", who)).text)


async def csv_export(scene: Scene, who: str) -> set[str]:
    text = (await _get(scene, "/api/assets.csv", who)).text
    return scene.seen(" ".join(row.get("name", "") for row in csv.DictReader(io.StringIO(text))))


async def ogc_features(scene: Scene, who: str) -> set[str]:
    shown = scene.seen((await _get(scene, "/ogc/collections/all/items?limit=50", who)).text)
    for vis, uid in scene.uids.items():
        response = await _get(scene, f"/ogc/collections/all/items/{uid}", who)
        if response.status_code == 200:
            shown.add(vis)
    return shown


async def outbox_collection(scene: Scene, who: str) -> set[str]:
    return scene.seen((await _get(scene, "/actor/outbox?page=first", who)).text)


async def group_outbox(scene: Scene, who: str) -> set[str]:
    return scene.seen((await _get(scene, "/groups/coop-fab/outbox?page=first", who)).text)


async def changes_feed(scene: Scene, who: str) -> set[str]:
    items = (await _get(scene, "/changes?since=0", who)).json()["orderedItems"]
    updates = [i for i in items if i["type"] == "Update"]
    # what may not be seen is there only as deleted: its IRI, never its content
    deleted = {i["object"]["id"] for i in items if i["type"] == "Delete"}
    shown = scene.seen(orjson.dumps(updates).decode())
    assert deleted == {scene.iris[v] for v in ALL - shown - {"group"}} | {scene.iris["group"]}
    return shown


async def catalog(scene: Scene, who: str) -> set[str]:
    iris = (await _get(scene, "/catalog?page=0", who)).json()["orderedItems"]
    return {vis for vis, iri in scene.iris.items() if iri in iris}


OUTPUTS: dict[str, tuple[Reader, dict[str, set[str]]]] = {
    # output: (reader, {who: what it shows})
    "html pages": (html_pages, {"anyone": OPEN, "member": ALL, "partner": OPEN}),
    "json-ld documents": (
        jsonld_documents,
        {"anyone": OPEN, "partner": ALL - {"group"}, "stranger": OPEN},
    ),
    "api get": (api_get, {"anyone": OPEN, "token": ALL, "other": OPEN}),
    "api search": (
        api_search,
        {"anyone": {"public"}, "token": ALL - {"unlisted"}, "other": {"public"}},
    ),
    "search page": (search_page, {"anyone": {"public"}, "partner": {"public"}}),
    "map": (map_data, {"anyone": {"public"}, "partner": {"public"}, "other": {"public"}}),
    "dcat": (dcat, {"anyone": {"public"}, "partner": {"public"}, "token": {"public"}}),
    "geojson": (geojson, {"anyone": {"public"}, "partner": {"public"}, "token": {"public"}}),
    "csv": (csv_export, {"anyone": {"public"}, "partner": {"public"}, "token": {"public"}}),
    "ogc features": (ogc_features, {"anyone": {"public"}, "partner": {"public"}}),
    "outbox": (outbox_collection, {"anyone": OPEN, "partner": OPEN}),
    "group outbox": (group_outbox, {"anyone": OPEN, "partner": OPEN}),
    "changes feed": (
        changes_feed,
        {"anyone": OPEN, "partner": ALL - {"group"}, "stranger": OPEN},
    ),
    "catalog": (catalog, {"anyone": OPEN, "partner": ALL - {"group"}, "stranger": OPEN}),
}


@pytest.mark.parametrize("output", list(OUTPUTS))
async def test_each_output_shows_each_asset_only_to_whom_it_may(scene: Scene, output: str) -> None:
    read, expected = OUTPUTS[output]
    for who, shown in expected.items():
        assert await read(scene, who) == shown, f"{output}, asked by {who}"


async def test_deliveries_reach_only_those_who_may_see(scene: Scene, engine) -> None:  # type: ignore[no-untyped-def]
    """The node's followers: the partner node gets public, unlisted and partners assets; a
    follower that is no partner only public and unlisted; the group asset goes nowhere."""
    async with db.read(engine) as conn:
        rows = await conn.execute(
            select(deliveries.c.inbox, outbox.c.body).join(
                outbox, outbox.c.id == deliveries.c.outbox_id
            )
        )
        got: dict[str, set[str]] = {}
        for inbox, body in rows:
            got.setdefault(inbox, set()).update(scene.seen(body))
    assert got == {
        f"{scene.partner.base}/inbox": ALL - {"group"},
        f"{scene.stranger.base}/inbox": OPEN,
    }


async def test_a_narrowed_asset_is_deleted_for_those_who_lose_it(scene: Scene, engine) -> None:  # type: ignore[no-untyped-def]
    response = await scene.http.patch(
        f"/api/assets/{scene.uids['public']}",
        json={"visibility": "partners"},
        headers=bearer(scene.token),
    )
    assert response.status_code == 200, response.text
    assert response.json()["visibility"] == "partners"
    async with db.read(engine) as conn:
        rows = list(
            await conn.execute(
                select(deliveries.c.inbox, outbox.c.type)
                .join(outbox, outbox.c.id == deliveries.c.outbox_id)
                .where(outbox.c.object_id == scene.iris["public"])
                .order_by(outbox.c.id)
            )
        )
    assert (f"{scene.stranger.base}/inbox", "Delete") in rows
    assert (f"{scene.partner.base}/inbox", "Update") in rows
    assert (f"{scene.stranger.base}/inbox", "Update") not in rows


@pytest.mark.parametrize("bad", ["secret", 3, None, ""])
async def test_an_unknown_visibility_is_a_422_problem(client, group_token, bad) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/assets", json={**GARDEN, "visibility": bad}, headers=bearer(group_token)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "visibility"
    listed = await client.get("/api/assets", headers=bearer(group_token))
    assert listed.json()["items"] == []  # nothing half-written


async def test_a_partners_copy_stays_with_partners(engine, client) -> None:  # type: ignore[no-untyped-def]
    """A copy addressed to followers only (how partners-only assets travel) is kept as
    `partners`: not on its page, in search, exports or the changes feed for anyone else."""
    async with serving(Partner(name="origin")) as origin:
        document = origin.asset("p1", name=NAMES["partners"])
        document["to"] = [f"{origin.actor}/followers"]
        document["cc"] = []
        copy = copy_reading.RemoteCopy.of(
            document, *_read(document), origin=f"127.0.0.1:{origin.port}", proof_checked=False
        )
        async with db.write(engine) as conn:
            await mirror.apply_copy(conn, copy)
        async with db.read(engine) as conn:
            row = (await conn.execute(select(assets.c.uid, assets.c.visibility))).one()
    assert row.visibility == visibility.PARTNERS
    assert (
        await client.get(f"/mirror/{row.uid}", headers={"accept": "text/html"})
    ).status_code == 404
    assert (await client.get(f"/mirror/{row.uid}.jsonld")).status_code == 404
    assert (await client.get(f"/api/assets/{row.uid}")).status_code == 404
    assert NAMES["partners"] not in (await client.get("/api/assets.geojson")).text
    assert NAMES["partners"] not in (await client.get("/search?q=garden")).text
    assert (await client.get("/api/assets")).json()["items"] == []


def _read(document: dict[str, Any]) -> tuple[Any, Any]:
    import vocab

    return vocab.read_asset_document(document)


async def test_group_defaults_apply_and_the_licence_travels(client, engine, group_token) -> None:  # type: ignore[no-untyped-def]
    await group_actors_defaults(engine, "coop-fab", "unlisted", "CC-BY-SA-4.0")
    response = await client.post("/api/assets", json=GARDEN, headers=bearer(group_token))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["visibility"] == "unlisted" and body["license"] == "CC-BY-SA-4.0"
    document = (await client.get(body["iri"], headers={"accept": "application/ld+json"})).json()
    assert "CC-BY-SA-4.0" in orjson.dumps(document).decode()
    assert document["cc"] == [AS_PUBLIC]


async def group_actors_defaults(engine, slug: str, vis: str, licence: str) -> None:  # type: ignore[no-untyped-def]
    from registry.catalog import group_settings

    await group_settings.set_defaults(engine, slug, visibility=vis, license=licence)


def test_group_actor_iris_are_recognised() -> None:
    base = "https://city.example"
    assert group_actors.slug_in(base, f"{base}/groups/coop") == "coop"
    assert group_actors.slug_in(base, f"{base}/groups/coop/outbox") is None
    assert group_actors.slug_in(base, "https://elsewhere.example/groups/coop") is None
