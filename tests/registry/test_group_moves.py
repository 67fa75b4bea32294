"""Groups that move, with real nodes (issue 22): a group with 500 assets moves from A to B
while C mirrors both and a Fedify account follows the group to B; a group re-establishes
itself after its node died, from its export and (another group) by a claim made with the old
node's key. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from federation import keys, proofs
from registry.core import db
from registry.core.schema import LOCAL, asset_documents, assets, groups
from tests.interop.fedify_peer import FedifyPeer
from tests.nodes import Node, eventually
from tests.registry.test_partner_mirroring import (
    KINDS,
    become_partners,
    catalog,
    divergence,
    host,
)

DATABASES = ["sqlite", "postgresql"]
QUICK_SYNC = {"COMMONS_MIRROR_SYNC_INTERVAL_MINUTES": "0.05"}


async def make_group(node: Node, slug: str, count: int) -> tuple[str, list[dict[str, Any]]]:
    token = node.cli("group", "create", f"Group {slug}", "--slug", slug).split()[-1]
    made: list[dict[str, Any]] = []
    async with node.client(token) as http:

        async def one(i: int) -> dict[str, Any]:
            body = {
                "name": f"{slug} asset {i}",
                "kind": KINDS[i % len(KINDS)],
                "summary": f"Number {i}",
                "tags": ["commons", f"n{i % 7}"],
                "location": {"latitude": 41 + i / 1000, "longitude": 2 + i / 1000, "country": "ES"},
            }
            response = await http.post("/api/assets", json=body)
            assert response.status_code == 201, response.text
            return response.json()

        for start in range(0, count, 20):
            made += await asyncio.gather(*(one(i) for i in range(start, min(count, start + 20))))
    return token, made


async def live_documents(node: Node, origin: str) -> dict[str, dict[str, Any]]:
    """iri -> document of the live assets a node holds from `origin` (LOCAL for its own)."""
    engine = db.create_engine(node.database_url)
    try:
        async with db.read(engine) as conn:
            rows = await conn.execute(
                select(assets.c.iri, asset_documents.c.document)
                .select_from(
                    assets.join(asset_documents, asset_documents.c.asset_id == assets.c.id)
                )
                .where(assets.c.origin == origin, assets.c.deleted_at.is_(None))
            )
            return {r.iri: orjson.loads(r.document) for r in rows}
    finally:
        await engine.dispose()


async def group_names(node: Node) -> set[str]:
    engine = db.create_engine(node.database_url)
    try:
        async with db.read(engine) as conn:
            return {r.slug for r in await conn.execute(select(groups.c.slug))}
    finally:
        await engine.dispose()


def moved_pairs(mapping_file: Path) -> dict[str, str]:
    mapping = orjson.loads(mapping_file.read_bytes())
    return {entry["object"]: entry["target"] for entry in mapping["assets"]}


async def holds_moved_copies(c: Node, old: Node, new: Node, pairs: dict[str, str]) -> str:
    """ "" when C holds every moved asset exactly once, under its new IRI (naming the old one
    in alsoKnownAs) and no live copy under an old IRI; else what is still wrong."""
    from_old = await live_documents(c, host(old))
    from_new = await live_documents(c, host(new))
    stale = [iri for iri in pairs if iri in from_old]
    missing = [new_iri for new_iri in pairs.values() if new_iri not in from_new]
    unnamed = [
        new_iri
        for old_iri, new_iri in pairs.items()
        if new_iri in from_new and old_iri not in from_new[new_iri].get("alsoKnownAs", [])
    ]
    if stale or missing or unnamed:
        return f"{len(stale)} old copies live, {len(missing)} new missing, {len(unnamed)} unnamed"
    return await divergence(new, c)  # and exactly the new origin's catalog, hashes included


async def wait_for_moved_copies(c: Node, old: Node, new: Node, pairs: dict[str, str]) -> None:
    async def settled() -> bool:
        return not await holds_moved_copies(c, old, new, pairs)

    try:
        await eventually(settled, timeout=300, interval=1, what="C re-keying its copies")
    except AssertionError as exc:
        logs = "\n".join(f"--- {n.name} ---\n{n.log()[-2500:]}" for n in (old, new, c))
        raise AssertionError(
            f"{exc}\n{await holds_moved_copies(c, old, new, pairs)}\n{logs}"
        ) from None


@pytest.mark.timeout(900)
@pytest.mark.parametrize("on", DATABASES)
async def test_a_group_of_500_assets_moves_from_a_to_b_while_c_mirrors_both(
    node_factory, fedify: FedifyPeer, tmp_path: Path, on: str
) -> None:
    a, b, c = (node_factory(name, on=on, env=QUICK_SYNC) for name in ("A", "B", "C"))
    await become_partners(a, b, c)
    token, made = await make_group(a, "coop", 500)
    # The group's rules travel with it; a Fedify account follows it on A.
    a.cli("group", "defaults", "coop", "--visibility", "unlisted", "--license", "CC-BY-SA-4.0")
    old_group, new_group = f"{a.base_url}/groups/coop", f"{b.base_url}/groups/coop"
    assert (await fedify.follow(old_group)).get("target") == old_group
    await fedify.wait_for_inbox(
        lambda item: item["type"] == "Accept" and item["actor"] == old_group,
        what="the coop's Accept from A",
    )
    async with a.client(token) as http:  # some history: edits and deletions
        for asset in made[:5]:
            response = await http.patch(f"/api/assets/{asset['id']}", json={"summary": "Edited"})
            assert response.status_code == 200
        for asset in made[498:]:
            assert (await http.delete(f"/api/assets/{asset['id']}")).status_code == 204

    async def c_mirrors_a() -> bool:
        return not await divergence(a, c)

    await eventually(c_mirrors_a, timeout=300, interval=1, what="C mirroring A's 498 assets")

    archive, mapping = tmp_path / "coop.json", tmp_path / "coop.moved.json"
    out = a.cli("group", "export", "coop", "--out", str(archive))
    assert "500 assets (498 live)" in out, out

    # Bad input changes nothing: a tampered archive, a mapping for another node, an altered one.
    tampered = orjson.loads(archive.read_bytes())
    first = next(iter(tampered["documents"]))
    tampered["documents"][first]["name"] = "Forged"
    (tmp_path / "tampered.json").write_bytes(orjson.dumps(tampered))
    with pytest.raises(AssertionError, match="altered"):
        b.cli("group", "import", str(tmp_path / "tampered.json"), "--slug", "forged")
    assert "forged" not in await group_names(b) and not await live_documents(b, LOCAL)

    started = time.monotonic()
    out = b.cli("group", "import", str(archive), "--map-out", str(mapping))
    assert "498 assets recreated" in out, out
    pairs = moved_pairs(mapping)
    assert len(pairs) == 498 and set(pairs) == set(await live_documents(a, LOCAL))
    with pytest.raises(AssertionError, match="not for this node"):
        b.cli("group", "moved", "coop", "--map", str(mapping))
    altered = orjson.loads(mapping.read_bytes())
    altered["assets"][0]["target"] = altered["assets"][1]["target"]
    (tmp_path / "altered.json").write_bytes(orjson.dumps(altered))
    with pytest.raises(AssertionError, match="proof fails"):
        a.cli("group", "moved", "coop", "--map", str(tmp_path / "altered.json"))
    assert len(await live_documents(a, LOCAL)) == 498

    out = a.cli("group", "moved", "coop", "--map", str(mapping), "--to", b.base_url)
    assert "498 Move activities queued" in out, out
    await wait_for_moved_copies(c, a, b, pairs)
    print(f"\n[{on}] 498 copies re-keyed on C {time.monotonic() - started:.1f} s after import")
    await fedify_follows_the_moved_group(fedify, b, old_group, new_group)

    # Every old IRI leads to its new one: people and linked-data clients by a 308 redirect,
    # ActivityPub clients by a Tombstone naming it.
    async with httpx.AsyncClient(timeout=30) as http:

        async def check(old_iri: str) -> None:
            page = await http.get(old_iri, headers={"Accept": "text/html"})
            assert page.status_code == 308 and page.headers["location"] == pairs[old_iri]
            data = await http.get(old_iri, headers={"Accept": "application/ld+json"})
            assert data.status_code == 308 and data.headers["location"] == pairs[old_iri]
            ap = await http.get(old_iri, headers={"Accept": "application/activity+json"})
            assert ap.status_code == 410, ap.text
            assert ap.json()["type"] == "Tombstone" and ap.json()["movedTo"] == pairs[old_iri]

        olds = list(pairs)

        async def redirects() -> bool:  # A's cached documents go within its cache's 5 s
            data = await http.get(olds[0], headers={"Accept": "application/ld+json"})
            return data.status_code == 308

        await eventually(redirects, timeout=15, what="A's document cache seeing the move")
        for start in range(0, len(olds), 25):
            await asyncio.gather(*(check(iri) for iri in olds[start : start + 25]))
        followed = await http.get(olds[0], follow_redirects=True, headers={"Accept": "text/html"})
        assert followed.status_code == 200 and str(followed.url) == pairs[olds[0]]
        assert "Moved here from" in followed.text and olds[0] in followed.text
    # A's history is kept: the deleted assets stay deleted (not moved), the group suspended.
    assert len([1 for _, gone in (await catalog(c, host(a))).values() if gone]) >= 500


async def fedify_follows(
    fedify: FedifyPeer, old_group: str, new_group: str, *, old_answers: bool
) -> None:
    """The group actor's Move reaches the Fedify follower, which checks it (its signature with
    the key it holds, `alsoKnownAs` of the new actor, `movedTo` of the old if it answers) and
    follows the new group, which lists it among its followers."""

    async def move_handled() -> bool:
        moves = (await fedify.moves())["moves"]
        return any(m["from"] == old_group and "refused" in m for m in moves)

    await eventually(move_handled, timeout=120, what="Fedify handling the group's Move")
    move = next(m for m in (await fedify.moves())["moves"] if m["from"] == old_group)
    assert move["refused"] is None and move["to"] == new_group, move
    assert move["moverAnswered"] is old_answers, move
    await fedify.wait_for_inbox(
        lambda item: item["type"] == "Accept" and item["actor"] == new_group,
        timeout=60,
        what="the group's Accept from its new node",
    )
    async with httpx.AsyncClient(timeout=30) as http:
        listed = await http.get(
            f"{new_group}/followers",
            params={"page": "first"},
            headers={"Accept": "application/activity+json"},
        )
    assert fedify.actor_uri in listed.json()["orderedItems"], listed.text


async def fedify_follows_the_moved_group(
    fedify: FedifyPeer, b: Node, old_group: str, new_group: str
) -> None:
    """After a move between live nodes: both actors name each other, the old one's page
    redirects, the group's rules arrived with it, and its new assets reach the follower."""
    await fedify_follows(fedify, old_group, new_group, old_answers=True)
    async with httpx.AsyncClient(timeout=30) as http:
        ap = {"Accept": "application/activity+json"}
        assert (await http.get(old_group, headers=ap)).json()["movedTo"] == new_group
        assert old_group in (await http.get(new_group, headers=ap)).json()["alsoKnownAs"]
        page = await http.get(old_group, headers={"Accept": "text/html"})
        assert page.status_code == 308 and page.headers["location"] == new_group

        async def left_the_old_group() -> bool:  # Fedify's Undo of its Follow, as Mastodon's
            followers = await http.get(f"{old_group}/followers", headers=ap)
            return followers.json()["totalItems"] == 0

        await eventually(left_the_old_group, timeout=60, what="the follower leaving A's coop")
    assert "unlisted, licence CC-BY-SA-4.0" in b.cli("group", "defaults", "coop")
    token = b.cli("token", "create", "--group", "coop").split()[-1]
    async with b.client(token) as http:
        response = await http.post(
            "/api/assets", json={"name": "Made after the move", "kind": "cooperative"}
        )
        assert response.status_code == 201, response.text
        made = response.json()
    assert made["visibility"] == "unlisted", made
    create = await fedify.wait_for_inbox(
        lambda item: item["type"] == "Create" and (item["object"] or {}).get("id") == made["iri"],
        timeout=60,
        what="the new group's Create",
    )
    assert create["actor"] == new_group, create


async def proof_holds(c: Node, uid: str) -> dict[str, Any]:
    """C's API entry for a copy, after checking its served document against the key given."""
    async with httpx.AsyncClient(base_url=c.base_url, timeout=30) as http:
        entry = (await http.get(f"/api/assets/{uid}")).json()
        document = (
            await http.get(f"/mirror/{uid}", headers={"Accept": "application/activity+json"})
        ).json()
    key = keys.multikey_to_ed25519(entry["origin_key"]["publicKeyMultibase"])
    assert proofs.verify_object(document, key)
    assert entry["origin_key"]["id"] == proofs.verification_method(document)
    return entry


@pytest.mark.timeout(900)
@pytest.mark.parametrize("on", DATABASES)
async def test_a_group_outlives_its_dead_node(
    node_factory, fedify: FedifyPeer, tmp_path: Path, on: str
) -> None:
    quiet = {**QUICK_SYNC, "COMMONS_MIRROR_UNREACHABLE_AFTER_HOURS": "0.0005"}  # 1.8 s
    a = node_factory("A", on=on, env=QUICK_SYNC)
    b = node_factory("B", on=on, env=QUICK_SYNC)
    c = node_factory("C", on=on, env=quiet)
    await become_partners(a, b, c)
    await make_group(a, "coop", 30)
    await make_group(a, "garden", 20)
    old_coop, new_coop = f"{a.base_url}/groups/coop", f"{b.base_url}/groups/coop"
    assert (await fedify.follow(old_coop)).get("target") == old_coop
    await fedify.wait_for_inbox(
        lambda item: item["type"] == "Accept" and item["actor"] == old_coop,
        what="the coop's Accept from A",
    )

    async def c_mirrors_a() -> bool:
        return not await divergence(a, c)

    await eventually(c_mirrors_a, timeout=180, interval=1, what="C mirroring A")
    key_file, archive = tmp_path / "a-key.pem", tmp_path / "coop.json"
    a.cli("key", "export", "--out", str(key_file))
    assert key_file.stat().st_mode & 0o777 == 0o600
    a.cli("group", "export", "coop", "--out", str(archive), "--to", b.base_url)
    group_key, garden_key = tmp_path / "coop-actor.key", tmp_path / "garden-actor.key"
    a.cli("group", "key", "coop", "--out", str(group_key))  # what the coop's admins keep
    a.cli("group", "key", "garden", "--out", str(garden_key))
    assert group_key.stat().st_mode & 0o777 == 0o600
    a.stop(kill=True)  # the operator walks away

    # C keeps serving A's copies, marked unreachable, with the key that proves them.
    with pytest.raises(AssertionError, match="sync failed"):
        c.cli("sync")
    await asyncio.sleep(2.5)
    copies = await live_documents(c, host(a))
    assert len(copies) == 50
    async with httpx.AsyncClient(base_url=c.base_url, timeout=30) as http:
        found = (await http.get("/api/assets", params={"q": "garden", "limit": "50"})).json()
        marked = [i for i in found["items"] if i["origin"] == host(a)]
        assert marked and all(i.get("origin_unreachable_since") for i in marked), found
        page = await http.get(f"/mirror/{marked[0]['id']}", headers={"Accept": "text/html"})
        assert "Origin unreachable since" in page.text
    await proof_holds(c, marked[0]["id"])

    # A key that is not the coop actor's (another group's, or a forged one) changes nothing.
    forged = orjson.loads(group_key.read_bytes())
    forged["privateKeyPem"] = keys.private_key_to_pem(keys.generate_rsa_key())
    (tmp_path / "forged.key").write_bytes(orjson.dumps(forged))
    for wrong, why in ((garden_key, "not .*coop's"), (tmp_path / "forged.key", "not the group")):
        with pytest.raises(AssertionError, match=why):
            b.cli("group", "import", str(archive), "--announce", "--group-key", str(wrong))
    assert "coop" not in await group_names(b)

    # The coop re-establishes on B from its export; B announces the move with A's signed word,
    # and the coop actor's Move (signed with the key its admins kept) to its followers.
    mapping = tmp_path / "coop.moved.json"
    out = b.cli(
        "group",
        "import",
        str(archive),
        "--announce",
        "--map-out",
        str(mapping),
        "--group-key",
        str(group_key),
    )
    assert "30 Move activities queued" in out, out
    assert f"1 followers of {old_coop} were sent its Move" in out, out
    coop = moved_pairs(mapping)
    await wait_for_copies(c, a, b, coop)
    # Fedify checks the Move with the key it kept (A answers no more) and follows B's coop.
    await fedify_follows(fedify, old_coop, new_coop, old_answers=False)

    # The garden had no export: its copies on C, claimed with A's key, re-establish it on B.
    held = tmp_path / "held.json"
    c.cli("group", "copies", a.base_url, "--out", str(held))
    assert len(orjson.loads(held.read_bytes())["documents"]) == 20
    wrong_key = tmp_path / "wrong.pem"
    wrong_key.write_text(keys.private_key_to_pem(keys.generate_ed25519_key()))
    with pytest.raises(AssertionError, match="no copy in the file is proven by this key"):
        b.cli(
            "group",
            "claim",
            "garden",
            "--origin",
            a.base_url,
            "--key",
            str(wrong_key),
            "--copies",
            str(held),
        )
    garden_map = tmp_path / "garden.moved.json"
    out = b.cli(
        "group",
        "claim",
        "garden",
        "--origin",
        a.base_url,
        "--key",
        str(key_file),
        "--copies",
        str(held),
        "--map-out",
        str(garden_map),
    )
    assert "20 Move activities queued" in out, out
    garden = moved_pairs(garden_map)
    await wait_for_copies(c, a, b, {**coop, **garden})
    assert not await live_documents(c, host(a))  # every copy now keyed to B
    # Provenance: every copy C holds is B's signed document naming its old IRI on A.
    for uid_entry in (await live_documents(c, host(b))).values():
        assert set(uid_entry["alsoKnownAs"]) & (set(coop) | set(garden))


async def wait_for_copies(c: Node, old: Node, new: Node, pairs: dict[str, str]) -> None:
    await wait_for_moved_copies(c, old, new, pairs)


async def uids_by_iri(node: Node, origin: str) -> dict[str, str]:
    engine = db.create_engine(node.database_url)
    try:
        async with db.read(engine) as conn:
            rows = await conn.execute(
                select(assets.c.iri, assets.c.uid).where(
                    assets.c.origin == origin, assets.c.deleted_at.is_(None)
                )
            )
            return {r.iri: r.uid for r in rows}
    finally:
        await engine.dispose()


@pytest.mark.timeout(600)
async def test_a_partner_that_missed_the_moves_re_keys_from_the_changes_feed(
    node_factory, tmp_path: Path
) -> None:
    """A sends nothing (its delivery worker is off after the partnership), so C learns of the
    move only from A's changes feed, whose tombstones name the new IRIs: C still re-keys
    each copy in place (same local page) instead of losing it."""
    a = node_factory("A", env={**QUICK_SYNC, "COMMONS_FEDERATION_WORKERS_IN_SERVER": "false"})
    b = node_factory("B")
    c = node_factory("C", env=QUICK_SYNC)
    worker = a.spawn("worker")
    try:
        c.cli("partner", "add", a.base_url)

        async def accepted() -> bool:
            return "\taccepted\t" in c.cli("partner", "list")

        await eventually(accepted, timeout=60, what="A accepting C")
    finally:
        worker.terminate()
        worker.wait()
    await make_group(a, "coop", 20)

    async def c_mirrors_a() -> bool:
        return not await divergence(a, c)

    await eventually(c_mirrors_a, timeout=120, interval=1, what="C pulling A's catalog")
    before = await uids_by_iri(c, host(a))
    archive, mapping = tmp_path / "coop.json", tmp_path / "coop.moved.json"
    a.cli("group", "export", "coop", "--out", str(archive))
    b.cli("group", "import", str(archive), "--map-out", str(mapping))
    a.cli("group", "moved", "coop", "--map", str(mapping))
    pairs = moved_pairs(mapping)

    async def re_keyed() -> bool:
        return not await live_documents(c, host(a)) and len(await uids_by_iri(c, host(b))) == 20

    await eventually(re_keyed, timeout=120, interval=1, what="C re-keying from A's feed")
    after = await uids_by_iri(c, host(b))
    assert {pairs[old]: uid for old, uid in before.items()} == after  # the same copies
