"""Partner-state mirroring with real nodes: three server processes (one on PostgreSQL) mirror
each other's catalogs and converge exactly, through pushes, outages, and deliveries dropped or
reordered on purpose; a 2,237-asset backfill survives being killed half-way."""

from __future__ import annotations

import asyncio
import os
import random
import re
import subprocess
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from federation import keys
from federation.httpsig import CavageAuth
from federation.tables import deliveries, inbox_items
from registry.catalog.changes import purge_tombstones
from registry.core import db
from registry.core.node_keys import load_node_keys
from registry.core.schema import LOCAL, assets, partners
from tests.nodes import Node, eventually
from tests.sample_data import FABLABS_FILE

KINDS = ["fablab", "community-garden", "tool-library", "cooperative", "open-hardware"]


async def catalog(node: Node, origin: str | None = None) -> dict[str, tuple[str, bool]]:
    """iri -> (content hash, deleted) of the assets a node holds from `origin` (its own
    when None), read straight from its database."""
    engine = db.create_engine(node.database_url)
    try:
        async with db.read(engine) as conn:
            query = select(assets.c.iri, assets.c.content_hash, assets.c.deleted_at)
            query = query.where(assets.c.origin == (origin or LOCAL))
            return {
                r.iri: (r.content_hash, r.deleted_at is not None) for r in await conn.execute(query)
            }
    finally:
        await engine.dispose()


def host(node: Node) -> str:
    return f"127.0.0.1:{node.port}"


async def divergence(origin: Node, *mirrors: Node) -> str:
    """How the mirrors differ from the origin ("" when every mirror holds exactly the
    origin's live assets, with the same hashes, and tombstones for every deleted one)."""
    source = await catalog(origin)
    live = {iri: h for iri, (h, deleted) in source.items() if not deleted}
    gone = {iri for iri, (_, deleted) in source.items() if deleted}
    report = []
    for mirror in mirrors:
        held = await catalog(mirror, host(origin))
        held_live = {iri: h for iri, (h, deleted) in held.items() if not deleted}
        held_gone = {iri for iri, (_, deleted) in held.items() if deleted}
        missing = live.keys() - held_live.keys()
        stale = {iri for iri in live.keys() & held_live.keys() if live[iri] != held_live[iri]}
        extra = held_live.keys() - live.keys()
        if missing or stale or extra or held_gone != gone:
            report.append(
                f"{mirror.name}: {len(missing)} missing, {len(stale)} stale, {len(extra)} extra, "
                f"{len(gone - held_gone)} tombstones missing, {len(held_gone - gone)} wrong "
                f"tombstones (e.g. {sorted(missing | stale | extra)[:2]})"
            )
    return "; ".join(report)


async def converged(origin: Node, *mirrors: Node) -> bool:
    return not await divergence(origin, *mirrors)


async def await_convergence(origin: Node, *mirrors: Node, timeout: float, what: str) -> None:
    try:
        await eventually(
            lambda: converged(origin, *mirrors), timeout=timeout, interval=1, what=what
        )
    except AssertionError as exc:
        logs = "\n".join(f"--- {n.name} ---\n{n.log()[-3000:]}" for n in (origin, *mirrors))
        raise AssertionError(f"{exc}\n{await divergence(origin, *mirrors)}\n{logs}") from None


async def token_for(node: Node) -> str:
    return node.cli("group", "create", f"Group {random.random()}").split()[-1]


async def write_assets(
    node: Node,
    token: str,
    *,
    create: int = 0,
    update: list[str] = (),
    delete: list[str] = (),
    tag: str = "",
) -> list[dict]:
    created = []
    async with node.client(token) as http:
        for i in range(create):
            body = {
                "name": f"Asset {tag}{i}",
                "kind": KINDS[i % len(KINDS)],
                "summary": f"Number {i}",
                "tags": ["commons", f"n{i % 7}"],
                "location": {"latitude": 41 + i / 1000, "longitude": 2 + i / 1000, "country": "ES"},
            }
            response = await http.post("/api/assets", json=body)
            assert response.status_code == 201, response.text
            created.append(response.json())
        for uid in update:
            response = await http.patch(
                f"/api/assets/{uid}", json={"summary": f"Changed {tag} {time.time()}"}
            )
            assert response.status_code == 200, response.text
        for uid in delete:
            assert (await http.delete(f"/api/assets/{uid}")).status_code == 204
    return created


async def become_partners(*nodes: Node) -> None:
    # The commands run side by side: each is a process that spends ~1 s importing.
    await asyncio.gather(
        *(
            asyncio.to_thread(node.cli, "partner", "add", other.base_url)
            for node in nodes
            for other in nodes
            if other is not node
        )
    )

    async def all_accepted() -> bool:
        lists = await asyncio.gather(
            *(asyncio.to_thread(node.cli, "partner", "list") for node in nodes)
        )
        return all(out.count("\taccepted\t") == len(nodes) - 1 for out in lists)

    await eventually(all_accepted, timeout=60, what="every partnership accepted")


@pytest.mark.timeout(600)
async def test_three_nodes_converge(node_factory) -> None:
    a = node_factory("A", on="postgresql")
    b, c = node_factory("B"), node_factory("C")
    await become_partners(a, b, c)
    token = await token_for(a)

    started = time.monotonic()
    made = await write_assets(a, token, create=500)
    uids = [asset["id"] for asset in made]
    await write_assets(a, token, update=uids[:50], delete=uids[450:470])
    await await_convergence(a, b, c, timeout=240, what="B and C holding exactly A's catalog")
    print(
        f"\n500 creates, 50 updates, 20 deletes: B and C converged in "
        f"{time.monotonic() - started:.1f} s"
    )
    assert len([1 for _, deleted in (await catalog(b, host(a))).values() if deleted]) == 20

    # C is away while A changes; after it comes back and syncs, it converges.
    c.stop()
    more = await write_assets(
        a, token, create=30, update=uids[100:120], delete=uids[120:130], tag="while C was away "
    )
    c.start()
    started = time.monotonic()
    c.cli("sync")
    await await_convergence(a, b, c, timeout=120, what="C converging after its outage")
    print(f"after C's outage: converged {time.monotonic() - started:.1f} s after restart")
    assert more


@pytest.mark.timeout(300)
async def test_dropped_and_reordered_deliveries_are_repaired_by_sync(node_factory) -> None:
    # A's deliveries are sent by a separate worker process that the test starts only after
    # it has dropped a third of them and shuffled the order of the rest.
    a = node_factory("A", env={"COMMONS_FEDERATION_WORKERS_IN_SERVER": "false"})
    b = node_factory("B")
    worker = a.spawn("worker")
    try:
        b.cli("partner", "add", a.base_url)
        await eventually(lambda: _accepted(b, a), timeout=60, what="A accepting B")
    finally:
        worker.terminate()
        worker.wait()
    token = await token_for(a)
    made = await write_assets(a, token, create=60)
    uids = [x["id"] for x in made]
    await write_assets(a, token, update=uids[:20], delete=uids[20:30])

    engine = db.create_engine(a.database_url)
    rng = random.Random(7)
    async with db.write(engine) as conn:
        ids = [
            r.id
            for r in await conn.execute(
                select(deliveries.c.id).where(deliveries.c.state == "pending")
            )
        ]
        dropped = rng.sample(ids, len(ids) // 3)
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(dropped))
            .values(state="dead", last_error="dropped by the test")
        )
        for delivery_id in set(ids) - set(dropped):
            # Later activities may now go first: an Update before its Create, a Delete too.
            await conn.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id)
                .values(next_attempt_at=func.current_timestamp())
            )
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(rng.sample(sorted(set(ids) - set(dropped)), 10)))
            .values(attempts=0)
        )
    await engine.dispose()
    worker = a.spawn("worker")
    try:
        await eventually(lambda: _queue_drained(a), timeout=60, what="A's queue drained")
        assert not await converged(a, b), "with a third dropped, B should be behind"
        out = b.cli("sync")
        assert not await divergence(a, b), f"{await divergence(a, b)}\n{out}"
    finally:
        worker.terminate()
        worker.wait()


async def _accepted(follower: Node, followed: Node) -> bool:
    return "\taccepted\t" in follower.cli("partner", "list")


async def _queue_drained(node: Node) -> bool:
    engine = db.create_engine(node.database_url)
    async with db.read(engine) as conn:
        pending = (
            await conn.execute(
                select(func.count()).select_from(deliveries).where(deliveries.c.state == "pending")
            )
        ).scalar_one()
    await engine.dispose()
    return pending == 0


@pytest.mark.timeout(300)
async def test_fablabs_catalog_mirrors_completely_and_resumes_after_a_kill(node_factory) -> None:
    # Small pages make the backfill long enough (224 pages) to be killed in the middle.
    a = node_factory("A", env={"COMMONS_MIRROR_PAGE_SIZE": "10"})
    b = node_factory("B")
    b.cli("partner", "add", a.base_url)
    await eventually(lambda: _accepted(b, a), timeout=60, what="A accepting B")
    b.stop()  # so that only our sync runs, and we can kill it
    a.cli("import", str(FABLABS_FILE))  # after B's server went

    sync = b.spawn("sync", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The sync reports its pages on stderr (several at once when they were stored together);
    # kill -9 it as soon as five pages are in.
    five = re.compile(rb"page ([5-9]|\d{2,}),")
    progress = await asyncio.to_thread(read_until, sync.stderr, five, timeout=120)
    sync.kill()
    sync.wait()
    assert five.search(progress), progress[-2000:]
    half = len(await catalog(b, host(a)))
    assert 0 < half < 2237, half
    out = b.cli("sync")
    mirrored = await catalog(b, host(a))
    assert len(mirrored) == 2237, out
    assert await converged(a, b)
    assert "created" in out and f"{2237 - half} created" in out, out
    engine = db.create_engine(b.database_url)
    async with db.read(engine) as conn:
        checkpoint = (await conn.execute(select(partners.c.checkpoint_seq))).scalar_one()
    await engine.dispose()
    assert checkpoint >= 2237
    await asyncio.sleep(0)


def read_until(stream, marker: re.Pattern[bytes], timeout: float) -> bytes:  # type: ignore[no-untyped-def]
    """Read a child's output until `marker` matches (or it ends, or time runs out)."""
    seen, deadline = b"", time.monotonic() + timeout
    while not marker.search(seen) and time.monotonic() < deadline:
        chunk = os.read(stream.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    return seen


async def node_keys(node: Node) -> keys.NodeKeys:
    engine = db.create_engine(node.database_url)
    try:
        return await load_node_keys(engine)
    finally:
        await engine.dispose()


async def post_as(sender: Node, target: Node, activity: dict) -> int:
    """POST `activity` to `target`'s inbox signed with `sender`'s real node key."""
    signing = await node_keys(sender)
    auth = CavageAuth(f"{sender.actor}#main-key", signing.rsa_private_key)
    async with httpx.AsyncClient(base_url=target.base_url, timeout=10) as http:
        response = await http.post(
            "/inbox",
            json=activity,
            auth=auth,
            headers={"Content-Type": "application/activity+json"},
        )
    return response.status_code


async def inbox_results(node: Node, activity_id: str) -> list[tuple[str, str]]:
    engine = db.create_engine(node.database_url)
    try:
        async with db.read(engine) as conn:
            rows = await conn.execute(
                select(inbox_items.c.state, inbox_items.c.result).where(
                    inbox_items.c.activity_id == activity_id
                )
            )
            return [(r.state, r.result or "") for r in rows]
    finally:
        await engine.dispose()


@pytest.mark.timeout(300)
async def test_only_the_origin_changes_its_assets(node_factory) -> None:
    # B and C are both partners of A and of each other, so what refuses B's forgeries below
    # is the authority rule, not the partnership check.
    a, b, c = node_factory("A"), node_factory("B"), node_factory("C")
    await become_partners(a, b, c)
    token = await token_for(a)
    made = await write_assets(a, token, create=3)
    await await_convergence(a, b, c, timeout=60, what="B and C mirroring A")
    before = await catalog(c, host(a))

    async with a.client() as http:
        response = await http.get(
            f"/assets/{made[0]['id']}", headers={"Accept": "application/activity+json"}
        )
        original = response.json()
    forged = {**original, "name": "Taken over by B", "updated": "2099-01-01T00:00:00Z"}
    attempts = {
        # B re-publishes A's asset, changed, under A's IRI.
        "update": {"type": "Update", "object": forged},
        # B deletes A's asset.
        "delete": {"type": "Delete", "object": made[1]["iri"]},
        # A's own key, but the document was altered after A signed its proof.
        "tampered": {"type": "Update", "object": forged, "signer": a},
    }
    for name, attempt in attempts.items():
        sender = attempt.get("signer", b)
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{sender.base_url}/activities/forged-{name}",
            "type": attempt["type"],
            "actor": sender.actor,
            "object": attempt["object"],
        }
        assert await post_as(sender, c, activity) == 202, name

        async def settled(activity_id: str = activity["id"]) -> list[tuple[str, str]]:
            results = await inbox_results(c, activity_id)
            return results if results and results[0][0] not in ("pending", "claimed") else []

        [(state, result)] = await eventually(settled, timeout=30, what=f"C processing {name}")
        assert state == "ignored", (name, state, result)
        if name == "tampered":
            assert "proof" in result, result
    assert await catalog(c, host(a)) == before
    assert await converged(a, c)
    await check_mirrored_in_the_product(c, a, made[0])


async def check_mirrored_in_the_product(mirror: Node, origin: Node, asset: dict) -> None:
    """The mirror's search, exports and pages show the copy under the origin's IRI and say
    where it comes from; the mirror keeps and serves the origin's proof."""
    async with mirror.client() as http:
        found = await http.get("/api/assets", params={"origin": "mirrored", "q": asset["name"]})
        [item] = [i for i in found.json()["items"] if i["iri"] == asset["iri"]]
        assert item["origin"] == host(origin)
        assert asset["iri"] not in {
            i["iri"]
            for i in (await http.get("/api/assets", params={"origin": "local"})).json()["items"]
        }
        features = (await http.get("/api/assets.geojson", params={"origin": "mirrored"})).json()
        [feature] = [f for f in features["features"] if f["id"] == asset["iri"]]
        assert feature["properties"]["origin"] == host(origin)
        dcat = (await http.get("/dcat/catalog.jsonld", params={"origin": "mirrored"})).text
        assert host(origin) in dcat and "wasAttributedTo" in dcat
        page = await http.get(item["links"]["html"], headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert f'href="{asset["iri"]}"' in page.text  # a visible link to the origin
        served = await http.get(
            item["links"]["jsonld"], headers={"Accept": "application/activity+json"}
        )
        assert served.json()["id"] == asset["iri"]
        assert served.json()["proof"]["verificationMethod"].startswith(origin.actor)


async def forget_deletions(node: Node) -> int:
    """What the node does once deletions pass its tombstone window, done now."""
    engine = db.create_engine(node.database_url)
    try:
        async with db.write(engine) as conn:
            # A second on: change times are stored to the second.
            later = datetime.now(UTC) + timedelta(seconds=1)
            return await purge_tombstones(conn, timedelta(0), now=later)
    finally:
        await engine.dispose()


async def live(node: Node, origin: str | None = None) -> dict[str, str]:
    return {iri: h for iri, (h, deleted) in (await catalog(node, origin)).items() if not deleted}


@pytest.mark.timeout(300)
async def test_a_partner_away_past_the_window_gets_a_full_comparison(node_factory) -> None:
    a, b = node_factory("A"), node_factory("B")
    b.cli("partner", "add", a.base_url)
    await eventually(lambda: _accepted(b, a), timeout=60, what="A accepting B")
    token = await token_for(a)
    uids = [x["id"] for x in await write_assets(a, token, create=8)]
    await await_convergence(a, b, timeout=60, what="B mirroring A")
    b.stop()  # B is away; A deletes, and later forgets that it did

    await write_assets(a, token, delete=uids[:1])
    assert await forget_deletions(a) == 1
    out = b.cli("sync")
    assert "full" in out, out
    assert await live(b, host(a)) == await live(a)

    # Most of the catalog vanishing looks like a broken partner: nothing is deleted until
    # an admin says so.
    await write_assets(a, token, delete=uids[1:5])
    await forget_deletions(a)
    out = b.cli("sync", check=False)
    assert "would delete 4 of 7" in out, out
    assert len(await live(b, host(a))) == 7
    b.cli("sync", "--force")
    assert await live(b, host(a)) == await live(a)
    assert len(await live(a)) == 3
