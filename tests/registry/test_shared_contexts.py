"""A registered context is parsed once and shared by every document that carries it, and
documents read and write exactly as they would without it (federation.shared_contexts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given
from hypothesis import strategies as st

import vocab
from federation import proofs, safejson, shared_contexts
from federation.shared_contexts import context_id

CONTEXT = orjson.dumps(vocab.ASSET_CONTEXT).decode()
REFERENCE = "~" + context_id(CONTEXT)


def signed_document() -> dict[str, Any]:
    meta = vocab.AssetMeta(
        iri="https://a.example/assets/1",
        attributed_to="https://a.example/actor",
        published=datetime(2026, 12, 6, tzinfo=UTC),
    )
    record = vocab.validate_asset_input(
        {"name": "Fab Lab Gràcia", "kind": "fablab", "tags": ["wood", "metal"]}
    )
    document = vocab.asset_document(record, meta, "https://a.example/tags")
    key = ed25519.Ed25519PrivateKey.generate()
    return proofs.sign_object(document, key, "https://a.example/actor#ed25519-key", owned=True)


def test_a_signed_document_reads_with_both_contexts_shared_and_writes_the_same_bytes() -> None:
    text = orjson.dumps(signed_document())
    assert text.count(b'"@context":' + CONTEXT.encode()) == 2

    value = safejson.loads(text)
    assert value == orjson.loads(text)
    assert value["@context"] is vocab.ASSET_CONTEXT
    assert value["proof"]["@context"] is vocab.ASSET_CONTEXT
    assert shared_contexts.dumps(value) == text
    by_reference = shared_contexts.dumps(value, by_reference=True)
    assert len(by_reference) < len(text) - len(CONTEXT)
    assert shared_contexts.loads(by_reference) == value
    assert shared_contexts.deep_copy(value) == value
    assert orjson.dumps(vocab.ASSET_CONTEXT).decode() == CONTEXT  # nothing changed it


def test_a_document_written_here_shares_the_context_and_its_proof_verifies() -> None:
    document = signed_document()
    assert document["@context"] is vocab.ASSET_CONTEXT
    assert document["proof"]["@context"] is vocab.ASSET_CONTEXT
    key = ed25519.Ed25519PrivateKey.generate()
    signed = proofs.sign_object(document, key, "https://a.example/actor#ed25519-key")
    assert proofs.verify_object(safejson.loads(orjson.dumps(signed)), key.public_key())
    assert proofs.verify_object(orjson.loads(orjson.dumps(signed)), key.public_key())


@pytest.mark.parametrize(
    "text",
    [
        # a reference in the text itself: nothing is shared, the string stays a string
        f'{{"@context":"{REFERENCE}","x":{{"@context":{CONTEXT}}}}}',
        # the same, escaped, so that only the parsed value reads as a reference
        f'{{"\\u0040context":"{REFERENCE}","x":{{"@context":{CONTEXT}}}}}',
        f'{{"x":{{"@context":{CONTEXT}}},"@cont\\u0065xt":"{REFERENCE}"}}',
        # a key that only ends in "@context"
        f'{{"x\\"@context":{CONTEXT}}}',
        # spaces: not the registered text
        f'{{"@context": {CONTEXT}}}',
        f'[{{"@context":{CONTEXT}}},"{REFERENCE}"]',
        f'{{"@context":"{REFERENCE[:-1]}"}}',
    ],
)
def test_texts_that_could_be_misread_read_as_they_are(text: str) -> None:
    for data in (text, text.encode()):
        value = safejson.loads(data)
        assert value == orjson.loads(data)
        assert orjson.dumps(value) == orjson.dumps(orjson.loads(data))
        assert shared_contexts.loads(shared_contexts.dumps(value, by_reference=True)) == value


def test_a_context_alone_reads_back_as_itself() -> None:
    written = shared_contexts.dumps(vocab.ASSET_CONTEXT, by_reference=True)
    assert shared_contexts.loads(written) == vocab.ASSET_CONTEXT
    assert shared_contexts.deep_copy(vocab.ASSET_CONTEXT) is vocab.ASSET_CONTEXT


def test_a_value_that_reads_as_a_reference_is_sent_unmarked() -> None:
    value = {"@context": REFERENCE, "object": {"@context": vocab.ASSET_CONTEXT}}
    written = shared_contexts.dumps(value, by_reference=True)
    assert not written.startswith(b"~")
    assert shared_contexts.loads(written) == value
    assert shared_contexts.deep_copy(value) == value


@pytest.mark.parametrize("max_depth", range(1, 12))
def test_depth_counts_the_levels_of_a_shared_context(max_depth: int) -> None:
    text = orjson.dumps({"a": [{"@context": vocab.ASSET_CONTEXT, "b": [[1]]}]})
    too_deep = safejson.nesting_exceeds(orjson.loads(text), max_depth)
    if too_deep:
        with pytest.raises(safejson.TooDeep):
            safejson.loads(text, max_depth=max_depth)
    else:
        assert safejson.loads(text, max_depth=max_depth) == orjson.loads(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["@context", "id", "~", "proof"]), inner, max_size=4)
    ),
    max_leaves=12,
)


def test_a_signed_document_is_written_sorted_as_orjson_sorts_it() -> None:
    document = signed_document()
    sorted_text = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    assert shared_contexts.dumps_sorted(document) == sorted_text
    assert shared_contexts.dumps_sorted(safejson.loads(orjson.dumps(document))) == sorted_text
    assert document["@context"] is vocab.ASSET_CONTEXT  # written from a copy, not changed
    assert document["proof"]["@context"] is vocab.ASSET_CONTEXT


@given(json_values, st.sampled_from(["none", "top", "nested", "reference", "proof"]))
def test_any_value_reads_and_writes_as_orjson_does(value: Any, where: str) -> None:
    if where == "top":
        value = {"@context": vocab.ASSET_CONTEXT, "body": value}
    elif where == "proof":
        value = {"proof": {"@context": vocab.ASSET_CONTEXT, "x": value}, "body": value}
    elif where == "nested":
        value = [value, {"proof": {"@context": vocab.ASSET_CONTEXT}}]
    elif where == "reference":
        value = {"@context": REFERENCE, "body": value}
    text = orjson.dumps(value)
    assert safejson.loads(text) == value
    assert shared_contexts.loads(shared_contexts.dumps(value, by_reference=True)) == value
    parsed = safejson.loads(text)
    assert shared_contexts.dumps(parsed) == text
    assert shared_contexts.dumps_sorted(parsed) == orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
