"""Who may speak for what: an activity and its object live on the signer's host, only an
asset's origin may change or delete it, an Announce of someone else's asset is believed only
as the origin serves it (or proves it, FEP-8b32), and no host may stand in for another through
WebFinger or an actor document. Two partners run on 127.0.0.1 (different ports, so different
hosts); both are followed, so only the authority checks stand between them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy import select

from federation import proofs
from federation.actors import ActorError
from federation.tables import inbox_items
from registry.core import db
from registry.runtime import Runtime
from tests.registry.test_security_helpers import (
    BASE,
    Partner,
    assert_problem,
    count,
    make_partner,
    process,
    running_node,
    stored_asset,
)

Node = tuple[httpx.AsyncClient, Runtime]


@pytest.fixture
async def node(
    make_app: Callable[..., object], victim: Partner, attacker: Partner
) -> AsyncIterator[Node]:
    async with running_node(make_app) as (http, runtime):
        await make_partner(runtime, victim)
        await make_partner(runtime, attacker)
        yield http, runtime


async def send(http: httpx.AsyncClient, sender: Partner, activity: dict) -> httpx.Response:
    return await http.post(
        "/inbox",
        json=activity,
        auth=sender.auth(),
        headers={"Content-Type": "application/activity+json"},
    )


async def outcome(runtime: Runtime, activity_id: str) -> tuple[str, str]:
    async with db.read(runtime.engine) as conn:
        row = (
            await conn.execute(
                select(inbox_items.c.state, inbox_items.c.result).where(
                    inbox_items.c.activity_id == activity_id
                )
            )
        ).one()
    return row.state, row.result or ""


async def victim_asset_mirrored(http: httpx.AsyncClient, runtime: Runtime, victim: Partner):  # type: ignore[no-untyped-def]
    document = victim.asset("a1")
    victim.documents[document["id"]] = document
    assert (await send(http, victim, victim.activity("Create", document))).status_code == 202
    await process(runtime)
    row = await stored_asset(runtime.engine, document["id"])
    assert row is not None and row.deleted_at is None and row.name == document["name"]
    return document, row


async def test_activity_id_on_another_host_is_refused(node: Node, attacker: Partner) -> None:
    http, runtime = node
    follow = attacker.activity("Follow", f"{BASE}/actor")
    follow["id"] = "http://127.0.0.1:9/users/victim/follow-1"
    assert_problem(await send(http, attacker, follow), 403, "not on its actor's host")
    assert await count(runtime.engine, inbox_items) == 0


@pytest.mark.parametrize("kind", ["Create", "Update"])
async def test_object_id_on_another_host_is_refused(
    node: Node, victim: Partner, attacker: Partner, kind: str
) -> None:
    http, runtime = node
    forged = victim.asset("a1", name="Forged by the attacker")
    activity = attacker.activity(kind, forged)
    assert (await send(http, attacker, activity)).status_code == 202
    await process(runtime)
    assert await stored_asset(runtime.engine, forged["id"]) is None
    state, result = await outcome(runtime, activity["id"])
    assert state == "ignored" and "may not speak for" in result


async def test_only_the_owner_updates_or_deletes(
    node: Node, victim: Partner, attacker: Partner
) -> None:
    http, runtime = node
    document, before = await victim_asset_mirrored(http, runtime, victim)
    update = attacker.activity("Update", {**document, "name": "Taken over"})
    delete = attacker.activity("Delete", document["id"])
    for activity in (update, delete):
        assert (await send(http, attacker, activity)).status_code == 202
    await process(runtime)
    after = await stored_asset(runtime.engine, document["id"])
    assert after.deleted_at is None and after.name == before.name
    assert after.content_hash == before.content_hash
    assert (await outcome(runtime, update["id"]))[0] == "ignored"
    state, result = await outcome(runtime, delete["id"])
    assert state == "ignored" and "may not delete" in result
    # The owner itself may.
    assert (await send(http, victim, victim.activity("Delete", document["id"]))).status_code == 202
    await process(runtime)
    assert (await stored_asset(runtime.engine, document["id"])).deleted_at is not None


async def test_announce_of_a_forged_copy_stores_what_the_origin_serves(
    node: Node, victim: Partner, attacker: Partner
) -> None:
    http, runtime = node
    real = victim.asset("a1", name="The real garden")
    victim.documents[real["id"]] = real
    fake = {**real, "name": "Forged by the attacker"}
    announce = attacker.activity("Announce", fake)
    assert (await send(http, attacker, announce)).status_code == 202
    await process(runtime)
    assert victim.fetched == [real["id"]]
    row = await stored_asset(runtime.engine, real["id"])
    assert row is not None and row.name == "The real garden"
    # An object its origin does not have is never stored from the embedded copy.
    ghost = victim.asset("ghost", name="Never existed")
    announce = attacker.activity("Announce", ghost)
    assert (await send(http, attacker, announce)).status_code == 202
    await process(runtime)
    assert await stored_asset(runtime.engine, ghost["id"]) is None
    assert (await outcome(runtime, announce["id"]))[0] == "ignored"


async def test_announce_with_a_valid_proof_needs_no_fetch_and_a_forged_one_is_refetched(
    node: Node, victim: Partner, attacker: Partner
) -> None:
    http, runtime = node
    proved = proofs.sign_object(victim.asset("p1"), victim.ed_key, victim.proof_key_id)
    assert (await send(http, attacker, attacker.activity("Announce", proved))).status_code == 202
    await process(runtime)
    assert (await stored_asset(runtime.engine, proved["id"])) is not None
    assert victim.fetched == []  # the proof was enough
    # A copy changed after signing: the proof fails, the origin is asked, and it has nothing.
    forged = proofs.sign_object(victim.asset("p2"), victim.ed_key, victim.proof_key_id)
    forged["name"] = "Forged after signing"
    announce = attacker.activity("Announce", forged)
    assert (await send(http, attacker, announce)).status_code == 202
    await process(runtime)
    assert victim.fetched == [forged["id"]]
    assert await stored_asset(runtime.engine, forged["id"]) is None
    # A proof made with the attacker's own key does not speak for the victim's asset either.
    wrong = proofs.sign_object(victim.asset("p3"), attacker.ed_key, attacker.proof_key_id)
    assert (await send(http, attacker, attacker.activity("Announce", wrong))).status_code == 202
    await process(runtime)
    assert await stored_asset(runtime.engine, wrong["id"]) is None


async def test_our_webfinger_answers_only_for_our_own_domain(node: Node) -> None:
    http, _ = node
    for resource in ("acct:registry@registry.test", "acct:Registry@REGISTRY.TEST."):
        found = await http.get("/.well-known/webfinger", params={"resource": resource})
        assert found.status_code == 200, resource
    for resource in (
        "acct:registry@evil.test",
        "acct:registry@registry.test.evil.test",
        "acct:registry@registry.tеst",  # Cyrillic е
    ):
        refused = await http.get("/.well-known/webfinger", params={"resource": resource})
        assert refused.status_code == 404, resource


async def test_webfinger_of_one_host_cannot_name_an_actor_of_another(
    node: Node, victim: Partner, attacker: Partner
) -> None:
    _, runtime = node
    directory = runtime.federation.directory  # type: ignore[union-attr]
    attacker.webfinger_href = victim.actor
    with pytest.raises(ActorError, match="actor of another host"):
        await directory.resolve(f"@attacker@127.0.0.1:{attacker.port}")
    # Pointing at its own actor is fine.
    attacker.webfinger_href = None
    found = await directory.resolve(f"@attacker@127.0.0.1:{attacker.port}")
    assert found.iri == attacker.actor


async def test_actor_document_claiming_another_host_is_refused(
    node: Node, victim: Partner, attacker: Partner
) -> None:
    http, runtime = node
    attacker.claims = victim.actor
    directory = runtime.federation.directory  # type: ignore[union-attr]
    with pytest.raises(ActorError, match="served an actor of another host"):
        await directory.get(attacker.actor, refresh=True)
    # Nor can its key then sign for anyone: the inbox refuses the request.
    follow = attacker.activity("Follow", f"{BASE}/actor")
    assert_problem(await send(http, attacker, follow), 401, "cannot be checked")
    assert await count(runtime.engine, inbox_items) == 0
