"""A partner's texts per language survive mirroring: the copy a node stores and serves onwards
keeps its nameMap, abstractMap, descriptionMap and contentMap (and the post's language), so an
unchanged document is kept whole rather than rebuilt in English."""

from __future__ import annotations

import vocab
from registry.fediverse.copy_reading import understood

IRI = "https://partner.example/assets/eines"
META = vocab.AssetMeta(IRI, url=IRI, attributed_to="https://partner.example/actor")
TAGS = "https://partner.example/tags"


def as_sent(body: dict, language: str) -> dict:
    """What the partner publishes, and what we read out of it."""
    record = vocab.validate_asset_input(body)
    return vocab.asset_document(
        record, vocab.AssetMeta(**{**META.__dict__, "language": language}), TAGS
    )


def test_a_copy_in_several_languages_is_kept_whole() -> None:
    sent = as_sent(
        {
            "name": "Biblioteca d'eines",
            "kind": "tool-library",
            "name_map": {"ca": "Biblioteca d'eines", "es": "Biblioteca de herramientas"},
            "summary_map": {"es": "Herramientas en préstamo"},
            "description_map": {"ca": "Trepants."},
        },
        "ca",
    )
    record, meta = vocab.read_asset_document(sent)
    kept = understood(sent, record, meta)
    assert kept is sent
    assert set(kept["contentMap"]) == {"ca", "es"}
    assert kept["nameMap"]["es"] == "Biblioteca de herramientas"


def test_a_post_in_the_partners_own_language_is_not_relabelled_english() -> None:
    sent = as_sent({"name": "Huerto del barrio", "kind": "community-garden"}, "es")
    assert list(sent["contentMap"]) == ["es"]
    record, meta = vocab.read_asset_document(sent)
    assert understood(sent, record, meta) is sent


def test_an_older_summary_map_is_carried_into_todays_terms() -> None:
    sent = as_sent({"name": "Huerto", "kind": "community-garden"}, "es")
    sent["summaryMap"] = {"es": "<p>Abierto</p>", "ca": "<p>Obert</p>"}  # a content warning
    record, meta = vocab.read_asset_document(sent)
    stored = understood(sent, record, meta)
    assert "summaryMap" not in stored
    assert stored["abstractMap"] == {"ca": "Obert", "es": "Abierto"}
    assert set(stored["contentMap"]) == {"ca", "es"}
