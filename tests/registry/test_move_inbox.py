"""A partner's `Move` of an asset, in-process (issue 22): the node re-keys its copy only when
the move is authorised (by the old node's signature, or by an authorization signed with the
old node's key when another node announces it) and the target, fetched from its own host,
names the old IRI in `alsoKnownAs` with a valid proof. Anything less changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from federation import proofs
from federation.tables import inbox_items
from registry.core import db
from registry.core.schema import assets
from registry.fediverse.portability import authorization
from registry.runtime import Runtime
from tests.registry.test_security_helpers import (
    Partner,
    make_partner,
    process,
    running_node,
)
from tests.remote_actor import serving


@pytest.fixture
async def old() -> AsyncIterator[Partner]:
    async with serving(Partner(name="old")) as remote:
        yield remote


@pytest.fixture
async def new() -> AsyncIterator[Partner]:
    async with serving(Partner(name="new")) as remote:
        yield remote


@pytest.fixture
async def node(
    make_app: Callable[..., object], old: Partner, new: Partner
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    async with running_node(make_app) as (http, runtime):
        await make_partner(runtime, old)
        await make_partner(runtime, new)
        yield http, runtime


def signed_asset(partner: Partner, slug: str, **fields: Any) -> dict[str, Any]:
    document = partner.asset(slug, **fields)
    return proofs.sign_object(document, partner.ed_key, partner.proof_key_id)


async def send(http: httpx.AsyncClient, sender: Partner, activity: dict[str, Any]) -> None:
    response = await http.post(
        "/inbox",
        json=activity,
        headers={"Content-Type": "application/activity+json"},
        auth=sender.auth(),
    )
    assert response.status_code == 202, response.text


async def held(runtime: Runtime) -> dict[str, tuple[str, bool]]:
    """iri -> (uid, deleted) of every row the node holds."""
    async with db.read(runtime.engine) as conn:
        rows = await conn.execute(select(assets.c.iri, assets.c.uid, assets.c.deleted_at))
        return {r.iri: (r.uid, r.deleted_at is not None) for r in rows}


async def last_result(runtime: Runtime) -> str:
    async with db.read(runtime.engine) as conn:
        rows = await conn.execute(select(inbox_items.c.result).order_by(inbox_items.c.id))
        return [r.result for r in rows][-1] or ""


async def mirrored(http: httpx.AsyncClient, runtime: Runtime, old: Partner) -> str:
    """The node holds a copy of one of `old`'s assets; returns its IRI."""
    document = signed_asset(old, "garden", summary="Edited twice at the origin")
    await send(http, old, old.activity("Create", document))
    await process(runtime)
    assert document["id"] in await held(runtime)
    return document["id"]


def moved_copy(new: Partner, old_iri: str | None, **fields: Any) -> dict[str, Any]:
    """The asset as the new node serves it (alsoKnownAs naming `old_iri` when given)."""
    document = new.asset("garden-2", summary="Edited twice at the origin", **fields)
    if old_iri:
        document["alsoKnownAs"] = [old_iri]
    document = proofs.sign_object(document, new.ed_key, new.proof_key_id)
    new.documents[document["id"]] = document
    return document


async def test_a_move_from_the_old_node_re_keys_the_copy_in_place(
    node: tuple[httpx.AsyncClient, Runtime], old: Partner, new: Partner
) -> None:
    http, runtime = node
    old_iri = await mirrored(http, runtime, old)
    uid_before = (await held(runtime))[old_iri][0]
    target = moved_copy(new, old_iri)
    await send(http, old, old.activity("Move", old_iri, target=target["id"]))
    await process(runtime)
    now = await held(runtime)
    assert now[target["id"]] == (uid_before, False)  # the same local copy, under its new IRI
    assert now[old_iri][1] is True  # the old IRI is a tombstone: nothing can revive it
    body = (await http.get(f"/api/assets/{uid_before}")).json()
    assert body["iri"] == target["id"] and body["summary"] == "Edited twice at the origin"
    # A late Create from the old node does not bring a second copy back.
    await send(http, old, old.activity("Create", signed_asset(old, "garden")))
    await process(runtime)
    live = [iri for iri, (_, gone) in (await held(runtime)).items() if not gone]
    assert live == [target["id"]]


@pytest.mark.parametrize(
    "case,reason",
    [
        ("target does not name the old IRI", "alsoKnownAs"),
        ("sent by the new node without authorization", "authorization"),
        ("authorization signed by the new node's own key", "key of the old node"),
        ("authorization for another node", "another node"),
        ("authorization forged under the old node's key id", "proof fails"),
        ("target without a proof", "proof"),
    ],
)
async def test_a_move_that_is_not_proven_changes_nothing(
    node: tuple[httpx.AsyncClient, Runtime], old: Partner, new: Partner, case: str, reason: str
) -> None:
    http, runtime = node
    old_iri = await mirrored(http, runtime, old)
    before = await held(runtime)
    target = moved_copy(new, None if "does not name" in case else old_iri)
    sender, extra = old, {}
    if case == "target without a proof":
        new.documents[target["id"]] = {k: v for k, v in target.items() if k != "proof"}
    if "authorization" in case:
        sender = new
    if case == "authorization signed by the new node's own key":
        extra["instrument"] = authorization(
            new.ed_key, new.base, "g", new.base, key_id=new.proof_key_id
        )
    if case == "authorization for another node":
        extra["instrument"] = authorization(
            old.ed_key, old.base, "g", "http://elsewhere.test", key_id=old.proof_key_id
        )
    if case == "authorization forged under the old node's key id":
        extra["instrument"] = authorization(
            new.ed_key, old.base, "g", new.base, key_id=old.proof_key_id
        )
    await send(http, sender, sender.activity("Move", old_iri, target=target["id"], **extra))
    await process(runtime)
    assert await held(runtime) == before
    assert reason.lower() in (await last_result(runtime)).lower()


async def test_the_new_node_moves_a_dead_nodes_copy_with_its_signed_authorization(
    node: tuple[httpx.AsyncClient, Runtime], old: Partner, new: Partner
) -> None:
    """The old node is gone; the key it signed with is still held here, so an authorization
    made with that key (by whoever kept it) lets the new node announce the move."""
    http, runtime = node
    old_iri = await mirrored(http, runtime, old)
    target = moved_copy(new, old_iri)
    grant = authorization(old.ed_key, old.base, "g", new.base, key_id=old.proof_key_id)
    await send(http, new, new.activity("Move", old_iri, target=target["id"], instrument=grant))
    await process(runtime)
    now = await held(runtime)
    assert now[target["id"]][1] is False and now[old_iri][1] is True, await last_result(runtime)
