"""Documents are stored with their known contexts by reference and read back byte for byte:
what is served, hashed and verified is the text that was written, and the rows are a fraction
of the size (registry.core.stored_documents)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from alembic import command
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

import vocab
from federation import proofs
from registry.catalog.assets import AssetService
from registry.catalog.importers import adapter_for, run_import
from registry.catalog.projection import dump
from registry.config import Settings
from registry.core import migrate
from registry.core.schema import asset_documents
from registry.core.stored_documents import (
    CONTEXTS_DIR,
    MARK,
    context_id,
    dumps,
    from_stored,
    known_contexts,
    load,
    to_stored,
    without_leading_context,
)
from tests.registry.test_import_and_search import FABLABS

CONTEXT = orjson.dumps(vocab.asset_context()).decode()


def signed_document(n: int = 1) -> str:
    meta = vocab.AssetMeta(
        iri=f"https://a.example/assets/{n}",
        url=f"https://a.example/assets/{n}",
        attributed_to="https://a.example/actor",
        published=datetime(2026, 12, 5, tzinfo=UTC),
    )
    record = vocab.validate_asset_input({"name": f"Fab Lab {n}", "kind": "fablab"})
    document = vocab.asset_document(record, meta, "https://a.example/tags")
    key = ed25519.Ed25519PrivateKey.generate()
    return dump(proofs.sign_object(document, key, "https://a.example/actor#ed25519-key"))


def test_the_documents_context_is_listed_and_every_listed_context_is_named_by_its_hash() -> None:
    """A change to the documents' context must add its new text to stored_contexts/ (rows
    stored meanwhile name it); a listed text that was edited would no longer match its id."""
    assert context_id(CONTEXT) in known_contexts(), (
        f"add the new asset context to {CONTEXTS_DIR} as {context_id(CONTEXT)}.json"
    )
    for ident, listed in known_contexts().items():
        assert context_id(listed) == ident


def test_a_signed_document_keeps_both_contexts_by_reference_and_reads_back_exactly() -> None:
    document = signed_document()
    assert document.count('"@context":' + CONTEXT) == 2  # the document's and its proof's
    stored = to_stored(document)
    assert stored.startswith(MARK) and CONTEXT not in stored
    assert len(stored) < len(document) - 2 * len(CONTEXT) + 100
    assert from_stored(stored) == document
    loaded = load(stored)  # parsed without its contexts, each the one shared value
    assert loaded == orjson.loads(document)
    assert loaded["@context"] is loaded["proof"]["@context"] is vocab.ASSET_CONTEXT
    assert dumps(loaded) == stored  # written by reference straight away
    assert dumps(orjson.loads(document)) == stored  # contexts not shared: the long way


@pytest.mark.parametrize(
    "document",
    [
        '{"@context":"https://www.w3.org/ns/activitystreams","id":"https://a.example/1"}',
        '{"@context":"~4489987b0c0d6be5","name":"looks like a reference"}',
        '{"id":"x","@context":"~anything"}',
        orjson.dumps({"summary": '"@context":' + CONTEXT}).decode(),  # the context as text
        "[]",
    ],
)
def test_other_texts_are_stored_as_they_are(document: str) -> None:
    assert to_stored(document) == document
    assert dumps(orjson.loads(document)) == dumps(load(document)) == document
    assert from_stored(to_stored(document)) == document
    assert load(to_stored(document)) == orjson.loads(document)


@pytest.mark.parametrize(
    "document",
    [
        '{"x\\"@context":' + CONTEXT + "}",  # a key that only ends in "@context"
        # a `@context` that reads as a reference only once parsed, beside a real one
        '{"\\u0040context":"~4489987b0c0d6be5","x":{"@context":' + CONTEXT + "}}",
    ],
)
def test_texts_a_reference_could_be_misread_in_load_as_they_were(document: str) -> None:
    assert load(to_stored(document)) == orjson.loads(document)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["@context", "id", "name", "~", "proof"]), inner, max_size=4
        )
    ),
    max_leaves=12,
)


@given(json_values, st.booleans())
def test_any_json_text_reads_back_as_it_was_written(value: object, with_context: bool) -> None:
    if with_context:
        value = {"@context": vocab.asset_context(), "body": value}
    document = orjson.dumps(value).decode()
    assert from_stored(to_stored(document)) == document
    assert load(to_stored(document)) == value


@given(json_values, st.sampled_from(["top", "proof", "nested", "reference"]))
def test_a_document_is_stored_as_its_text_would_be(value: object, where: str) -> None:
    shared = vocab.ASSET_CONTEXT
    document = {
        "top": {"@context": shared, "proof": {"@context": shared}, "body": value},
        "proof": {"proof": {"@context": shared, "x": value}, "body": value},
        "nested": {"@context": shared, "body": [value, {"@context": shared}]},
        "reference": {"@context": shared, "body": {"@context": "~4489987b0c0d6be5"}},
    }[where]
    assert dumps(document) == to_stored(orjson.dumps(document).decode())


def _without_context(stored: str) -> bytes:
    """What a changes-feed page wrote before: the document parsed, its `@context` dropped."""
    document = load(stored)
    del document["@context"]
    return orjson.dumps(document)


@given(json_values)
def test_a_document_without_its_leading_context_is_written_as_parsing_would_write_it(
    value: object,
) -> None:
    signed = orjson.loads(signed_document())
    document = {"@context": signed["@context"], "body": value, "proof": signed["proof"]}
    stored = to_stored(orjson.dumps(document).decode())
    text = without_leading_context(stored, vocab.ASSET_CONTEXT)
    assert text is not None
    assert orjson.dumps({"object": orjson.Fragment(text)}) == orjson.dumps(
        {"object": orjson.loads(_without_context(stored))}
    )


@pytest.mark.parametrize(
    "document",
    [
        '{"id":"x","@context":' + CONTEXT + "}",  # the context, not first
        '{"@context":' + CONTEXT + "}",  # the context alone
        '{"@context":"https://www.w3.org/ns/activitystreams","id":"x"}',  # another context
        '{"@context":"~4489987b0c0d6be5","id":"x"}',  # stored as it is: not a reference
    ],
)
def test_any_other_stored_text_is_left_to_the_caller_to_parse(document: str) -> None:
    assert without_leading_context(to_stored(document), vocab.ASSET_CONTEXT) is None
    assert without_leading_context(to_stored(document), vocab.asset_context()) is None


def test_a_reference_to_a_context_not_listed_here_is_an_error_not_a_guess() -> None:
    with pytest.raises(LookupError, match="0123456789abcdef"):
        from_stored(MARK + '{"@context":"~0123456789abcdef","id":"x"}')
    known = next(iter(known_contexts()))
    with pytest.raises(LookupError):  # cut short: a marked text holds only whole references
        from_stored(MARK + '{"@context":"~' + known[:8] + '","id":"x"}')


async def test_the_column_stores_by_reference_and_reads_rows_of_either_form(
    engine: AsyncEngine, client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    created = await client.post(
        "/api/assets", json={"name": "Fab Lab Gràcia", "kind": "fablab"}, headers=auth(group_token)
    )
    assert created.status_code == 201, created.text
    served = await client.get(
        f"/assets/{created.json()['id']}", headers={"Accept": "application/activity+json"}
    )
    async with engine.connect() as conn:
        raw = (await conn.execute(text("SELECT asset_id, document FROM asset_documents"))).one()
        typed = (await conn.execute(select(asset_documents.c.document))).scalar_one()
    assert raw.document.startswith(MARK) and CONTEXT not in raw.document
    assert typed == from_stored(raw.document)
    assert orjson.loads(typed) == served.json()

    # A row written before documents were stored this way reads back as it was.
    plain = signed_document(2)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE asset_documents SET pending_document = :plain"), {"plain": plain}
        )
        pending = (await conn.execute(select(asset_documents.c.pending_document))).scalar_one()
    assert pending == plain


async def test_an_imported_catalog_is_stored_in_under_half_the_bytes(
    engine: AsyncEngine, settings: Settings
) -> None:
    report = await run_import(AssetService(engine, settings), adapter_for(FABLABS, None), FABLABS)
    assert report.created > 1000
    async with engine.connect() as conn:
        stored = (
            await conn.execute(text("SELECT sum(length(document)) FROM asset_documents"))
        ).scalar_one()
        documents = (await conn.execute(select(asset_documents.c.document))).scalars().all()
    plain = sum(len(document) for document in documents)
    print(
        f"\n{report.created} documents: {plain / report.created:.0f} characters each, "
        f"stored in {stored / report.created:.0f}"
    )
    assert stored < plain / 2


async def test_a_downgrade_writes_the_documents_back_in_full_and_an_upgrade_by_reference(
    engine: AsyncEngine,
    settings: Settings,
    client: httpx.AsyncClient,
    group_token: str,
    auth: Callable[[str], dict],
) -> None:
    """Migration 0013: an earlier version reads the documents a downgrade leaves."""
    for name in ("Fab Lab Gràcia", "Tool library Sants"):
        created = await client.post(
            "/api/assets", json={"name": name, "kind": "fablab"}, headers=auth(group_token)
        )
        assert created.status_code == 201, created.text

    async def raw() -> list[str]:
        async with engine.connect() as conn:
            query = text("SELECT document FROM asset_documents ORDER BY asset_id")
            return list((await conn.execute(query)).scalars())

    stored = await raw()
    url = settings.database_url
    await asyncio.to_thread(command.downgrade, migrate.alembic_config(url), "0012")
    plain = await raw()
    assert plain == [from_stored(document) for document in stored]
    assert all(CONTEXT in document and not document.startswith(MARK) for document in plain)
    await asyncio.to_thread(migrate.upgrade, url)
    assert await raw() == stored
