"""The group archive (issue 22): what it holds, and every way a changed archive is refused
before anything is written. In-process, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import vocab
from federation import keys
from registry.catalog.assets import AssetService
from registry.config import Settings
from registry.core.errors import Conflict
from registry.core.node_keys import load_node_keys
from registry.core.schema import groups
from registry.fediverse.moves import AdoptItem, adopt
from registry.fediverse.portability import ArchiveError, digest, export_group, read_archive
from registry.people import accounts, members


@pytest.fixture
async def archive(engine: AsyncEngine, settings: Settings) -> dict[str, Any]:
    _, token = await accounts.create_group(engine, "Coop Fabricació", "coop")
    principal = await accounts.authenticate(engine, token)
    service = AssetService(engine, settings)
    made = [
        await service.create(principal, {"name": f"Lab {i}", "kind": "fablab"}) for i in range(3)
    ]
    await service.update(principal, made[0].uid, {"summary": "Edited"}, partial=True)
    await service.delete(principal, made[2].uid)
    await members.create_member(engine, "ana", "a long passphrase 1", group_slug="coop")
    key = (await load_node_keys(engine)).ed25519_private_key
    return await export_group(engine, settings.base_url, key, "coop", to="https://new.example")


def test_the_archive_holds_the_group_its_history_and_members_without_passwords(
    archive: dict[str, Any], settings: Settings
) -> None:
    manifest = archive["manifest"]
    assert manifest["object"]["id"] == f"{settings.base_url}/groups/coop"
    assert [e.get("deleted") is not None for e in manifest["assets"]] == [False, False, True]
    assert len(archive["documents"]) == 2
    assert manifest["members"] == [{"username": "ana", "displayName": "", "role": "group"}]
    assert "password" not in orjson.dumps(archive).decode().lower()
    read = read_archive(orjson.dumps(archive))
    assert read.slug == "coop" and len(read.assets) == 3
    assert read.authorization is not None and read.authorization["target"] == "https://new.example"
    edited = next(a for a in read.assets if a.document and "updated" in a.document)
    assert edited.updated > edited.published


def _doc(archive: dict[str, Any]) -> dict[str, Any]:
    return next(iter(archive["documents"].values()))


TAMPERINGS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "a document's content": (lambda a: _doc(a).update(name="Forged"), "altered"),
    "a document and its digest": (
        lambda a: (
            _doc(a).update(name="Forged"),
            a["manifest"]["assets"][0].update(digest=digest(_doc(a))),
        ),
        "signature",
    ),
    "a document left out": (lambda a: a["documents"].pop(next(iter(a["documents"]))), "missing"),
    "a document added": (
        lambda a: a["documents"].update({"https://x.example/assets/1": {}}),
        "does not list",
    ),
    "the group renamed": (lambda a: a["manifest"]["object"].update(name="Other"), "signature"),
    "another key": (
        lambda a: a["manifest"].update(
            publicKeyMultibase=keys.ed25519_to_multikey(keys.generate_ed25519_key().public_key())
        ),
        "signature",
    ),
    "the move authorization retargeted": (
        lambda a: a["authorization"].update(target="https://thief.example"),
        "proof fails",
    ),
    "not JSON": (lambda a: a.clear(), "manifest"),
}


@pytest.mark.parametrize("case", sorted(TAMPERINGS))
def test_a_changed_archive_is_refused_saying_what_is_wrong(
    archive: dict[str, Any], case: str
) -> None:
    change, words = TAMPERINGS[case]
    change(archive)
    with pytest.raises(ArchiveError, match=words):
        read_archive(orjson.dumps(archive))


async def test_adopting_a_group_whose_slug_is_taken_writes_nothing(
    engine: AsyncEngine, settings: Settings, archive: dict[str, Any]
) -> None:
    read = read_archive(orjson.dumps(archive))
    before = await accounts.list_groups(engine)
    items = [
        AdoptItem(a.iri, vocab.read_asset_document(a.document)[0], a.published, "x")
        for a in read.assets
        if a.document
    ]
    with pytest.raises(Conflict, match="exists here already"):
        await adopt(AssetService(engine, settings), slug="coop", name="Coop", items=items)
    assert await accounts.list_groups(engine) == before


async def test_adopted_members_come_without_passwords_and_cannot_sign_in(
    engine: AsyncEngine, settings: Settings, archive: dict[str, Any]
) -> None:
    read = read_archive(orjson.dumps(archive))
    items = [
        AdoptItem(a.iri, vocab.read_asset_document(a.document)[0], a.published, a.moderation)
        for a in read.assets
        if a.document
    ]
    people = [*read.members, {"username": "bo", "displayName": "Bo", "role": "group"}]
    adopted = await adopt(
        AssetService(engine, settings), slug="coop-2", name=read.name, items=items, people=people
    )
    assert adopted.members == ["bo"] and adopted.skipped_members == ["ana"]  # ana: taken here
    assert await members.verify_password(engine, "bo", "") is None
    assert await members.verify_password(engine, "bo", "!") is None
    assert len(adopted.pairs) == 2 and all(old != new for old, new in adopted.pairs)


async def test_a_moved_group_cannot_be_unsuspended(engine: AsyncEngine) -> None:
    await accounts.create_group(engine, "Moved Coop", "moved-coop")
    await accounts.set_group_suspended(engine, "moved-coop", True, reason="moving", by="admin")
    async with engine.begin() as conn:
        await conn.execute(
            groups.update()
            .where(groups.c.slug == "moved-coop")
            .values(moved_to="https://b.example/groups/moved-coop")
        )
    with pytest.raises(Conflict, match="stays suspended here"):
        await accounts.set_group_suspended(engine, "moved-coop", False, by="admin")
    assert (await accounts.get_group(engine, "moved-coop")).suspended_at is not None
