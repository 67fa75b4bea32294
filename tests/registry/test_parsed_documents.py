"""Stored documents read back once per text (registry.catalog.parsed_documents)."""

from __future__ import annotations

import orjson
import pytest

import vocab
from registry.catalog.parsed_documents import ParsedDocuments
from vocab.record import validate_asset_input

TAGS = "https://bcn.example.org/tags"


def stored_text(name: str, iri: str = "https://bcn.example.org/assets/1") -> str:
    record = validate_asset_input({"name": name, "kind": "fablab", "summary": f"About {name}"})
    return orjson.dumps(vocab.asset_document(record, vocab.AssetMeta(iri=iri), TAGS)).decode()


def test_the_same_text_is_read_once_and_answers_what_the_reader_answers() -> None:
    parsed = ParsedDocuments()
    text = stored_text("Ateneu de Fabricació")
    first = parsed.read(text, orjson.loads(text))
    assert first == vocab.read_asset_document(orjson.loads(text))
    again = parsed.read(text, orjson.loads(text))
    assert again[0] is first[0] and again[1] is first[1]
    assert len(parsed) == 1


def test_an_edited_document_is_read_anew() -> None:
    parsed = ParsedDocuments()
    before = stored_text("Ateneu")
    after = stored_text("Ateneu de Fabricació")
    assert parsed.read(before, orjson.loads(before))[0].name == "Ateneu"
    assert parsed.read(after, orjson.loads(after))[0].name == "Ateneu de Fabricació"
    # bytes and text of the same document are the same entry
    assert parsed.read(after.encode(), orjson.loads(after))[0].name == "Ateneu de Fabricació"
    assert len(parsed) == 2


def test_the_least_recently_read_leave_first() -> None:
    parsed = ParsedDocuments(max_entries=2)
    texts = [stored_text(f"Garden {n}", f"https://bcn.example.org/assets/{n}") for n in range(3)]
    parsed.read(texts[0], orjson.loads(texts[0]))
    parsed.read(texts[1], orjson.loads(texts[1]))
    kept = parsed.read(texts[0], orjson.loads(texts[0]))  # 0 is now the most recent
    parsed.read(texts[2], orjson.loads(texts[2]))  # 1 leaves
    assert len(parsed) == 2
    assert parsed.read(texts[0], orjson.loads(texts[0]))[0] is kept[0]


def test_a_refused_document_raises_and_is_not_remembered() -> None:
    parsed = ParsedDocuments()
    text = orjson.dumps({"id": "https://bcn.example.org/assets/1", "type": "Note"}).decode()
    with pytest.raises(vocab.ValidationError):
        parsed.read(text, orjson.loads(text))
    assert len(parsed) == 0


def test_a_walk_that_does_not_remember_uses_what_is_kept_and_adds_nothing() -> None:
    parsed = ParsedDocuments()
    kept_text, other_text = stored_text("Kept"), stored_text("Other")
    kept = parsed.read(kept_text, orjson.loads(kept_text))
    assert parsed.read(kept_text, orjson.loads(kept_text), remember=False)[0] is kept[0]
    assert parsed.read(other_text, orjson.loads(other_text), remember=False)[0].name == "Other"
    assert len(parsed) == 1
