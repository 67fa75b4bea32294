"""Texts per language: tags checked, maps through JSON-LD (ours and pyld), CSV columns per
language, the post's contentMap, and the record as one language's reader sees it."""

from __future__ import annotations

import io
from typing import Any

import pytest

import vocab
from vocab.document import post_language
from vocab.languages import canonical_tag, localised
from vocab.post import post_properties

AS = "https://www.w3.org/ns/activitystreams#"
DCT = "http://purl.org/dc/terms/"
IRI = "https://bcn.example.org/assets/eines"
TWO = {
    "name": "Biblioteca d'eines de Gràcia",
    "kind": "tool-library",
    "name_map": {
        "ca": "Biblioteca d'eines de Gràcia",
        "es": "Biblioteca de herramientas de Gràcia",
    },
    "summary_map": {"ca": "Eines en préstec", "es": "Herramientas en préstamo"},
    "description_map": {"es": "Taladros, sierras.\n\nLos sábados."},
}


def record(**extra: Any) -> vocab.AssetRecord:
    return vocab.validate_asset_input({**TWO, **extra})


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("ca", "ca"),
        ("ES", "es"),
        ("pt-br", "pt-BR"),
        ("ZH-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("sl-rozaj-biske", "sl-rozaj-biske"),
        ("de-CH-x-phonebk", "de-CH-x-phonebk"),
        ("x-whatever", "x-whatever"),
    ],
)
def test_well_formed_tags_are_written_in_their_conventional_case(given: str, canonical: str):
    assert canonical_tag(given) == canonical


@pytest.mark.parametrize("bad", ["", "c", "ca_ES", "e s", "@none", "español", "en-", "a-b-c-d"])
def test_a_bad_tag_is_refused_naming_the_field_and_the_key(bad: str) -> None:
    with pytest.raises(vocab.ValidationError) as caught:
        record(name_map={bad: "x"})
    assert [e.field for e in caught.value.errors] == [f"name_map.{bad}"]
    assert "BCP 47" in caught.value.errors[0].message


def test_map_values_are_checked_like_the_field_they_translate() -> None:
    with pytest.raises(vocab.ValidationError) as caught:
        record(name_map={"ca": "x" * 201, "es": 5, "fr": "a\x00b"}, summary_map=["ca"])
    assert {e.field for e in caught.value.errors} == {
        "name_map.ca",
        "name_map.es",
        "name_map.fr",
        "summary_map",
    }
    with pytest.raises(vocab.ValidationError, match="given twice"):
        record(name_map={"ca": "a", "CA": "b"})


def test_tags_are_normalised_and_empty_entries_dropped() -> None:
    r = record(name_map={"CA": " Biblioteca ", "pt-br": "Biblioteca", "fr": ""})
    assert r.name_map == (("ca", "Biblioteca"), ("pt-BR", "Biblioteca"))
    assert r.to_json()["name_map"] == {"ca": "Biblioteca", "pt-BR": "Biblioteca"}
    schema = vocab.asset_json_schema()["properties"]["name_map"]
    assert schema["type"] == ["object", "null"] and "pattern" in schema["propertyNames"]


def test_the_document_carries_language_maps_that_pyld_expands_to_tagged_literals() -> None:
    doc = vocab.asset_document(
        record(), vocab.AssetMeta(IRI, url=IRI), "https://bcn.example.org/tags"
    )
    assert doc["nameMap"] == TWO["name_map"]
    assert doc["abstractMap"] == TWO["summary_map"]
    assert doc["descriptionMap"] == TWO["description_map"]
    node = vocab.expand(doc)[0]
    names = {(v["@value"], v.get("@language")) for v in node[AS + "name"]}
    assert names == {
        (TWO["name"], None),
        (TWO["name_map"]["ca"], "ca"),
        (TWO["name_map"]["es"], "es"),
    }
    abstracts = {v.get("@language") for v in node[DCT + "abstract"]}
    assert abstracts == {"ca", "es"}
    assert [v["@language"] for v in node[DCT + "description"]] == ["es"]
    back, _ = vocab.read_asset_document(doc)
    assert back == record()
    assert back.summary is None  # a tagged summary is never taken for the untagged one


def test_older_summary_maps_in_as2_summary_are_read_into_the_summary_map() -> None:
    doc = vocab.asset_document(record(summary_map=None), vocab.AssetMeta(IRI), "https://t")
    doc["summaryMap"] = {"ca": "<p>Eines</p>", "es": "<p>Herramientas</p>"}
    back, _ = vocab.read_asset_document(doc)
    assert dict(back.summary_map) == {"ca": "Eines", "es": "Herramientas"}


def test_the_post_has_a_body_per_language_and_content_in_the_untagged_texts_language() -> None:
    post = post_properties(record(), IRI, "https://bcn.example.org/tags", "en")
    assert set(post["contentMap"]) == {"ca", "es"}
    assert post["content"] == post["contentMap"]["ca"]  # the untagged name is the Catalan one
    assert "Biblioteca de herramientas" in post["contentMap"]["es"]
    assert "Herramientas en préstamo" in post["contentMap"]["es"]
    assert "Eines en préstec" in post["contentMap"]["ca"]
    assert "préstamo" not in post["contentMap"]["ca"]  # no language borrows another's text
    assert post_language(post) == "ca"
    # an asset without maps: one body, in the node's language, as before
    plain = post_properties(
        record(name_map=None, summary_map=None, description_map=None), IRI, "t", "de"
    )
    assert list(plain["contentMap"]) == ["de"]


def test_a_reader_gets_their_language_or_is_told_it_fell_back() -> None:
    r = record()
    shown = localised(r, "es")
    assert (shown.record.name, shown.record.summary, shown.fell_back) == (
        TWO["name_map"]["es"],
        TWO["summary_map"]["es"],
        False,
    )
    assert localised(r, "es-MX").language == "es"
    other = localised(r, "de")
    assert other.fell_back and other.language == "ca" and other.record.name == TWO["name"]
    assert other.record.summary == TWO["summary_map"]["ca"]  # borrowed: better than nothing
    assert localised(record(name_map=None, summary_map=None, description_map=None), "de") == (
        localised(record(name_map=None, summary_map=None, description_map=None), "de")
    )
    assert not localised(
        vocab.validate_asset_input({"name": "x", "kind": "fablab"}), "de"
    ).fell_back


def test_csv_has_a_column_per_language_and_reads_it_back() -> None:
    r = record()
    out = io.StringIO()
    vocab.write_csv([(r, vocab.AssetMeta(IRI))], out)
    header = out.getvalue().splitlines()[0].split(",")
    assert header[-6:] == [
        "name@ca",
        "name@es",
        "summary@ca",
        "summary@es",
        "description@ca",
        "description@es",
    ]
    out.seek(0)
    [(number, back)] = list(vocab.read_csv(out))
    assert (number, back) == (2, r)


def test_csv_language_columns_are_checked_and_mapped() -> None:
    text = "Nom,Nombre,kind,name@xx_YY\nEines,Herramientas,tool-library,z\n"
    mapping = {"Nom": "name", "Nombre": "name@es", "kind": "kind", "name@xx_YY": "name@xx_YY"}
    [(_, error)] = list(vocab.read_csv(io.StringIO(text), mapping))
    assert isinstance(error, vocab.ValidationError)
    assert [e.field for e in error.errors] == ["name_map.xx_YY"]
    good = "Nom,Nombre,kind\nEines,Herramientas,tool-library\n"
    [(_, r)] = list(
        vocab.read_csv(io.StringIO(good), {"Nom": "name", "Nombre": "name@es", "kind": "kind"})
    )
    assert r.name_map == (("es", "Herramientas"),)
    with pytest.raises(vocab.ValidationError):
        vocab.read_csv(io.StringIO(good), {"Nom": "nom@es"}).__next__()


@pytest.mark.parametrize(
    "tag", ["ca", "ES", "pt-br", "zh-Hant-TW", "x-a", "ca_ES", " ca", "español", "en-", "i-klingon"]
)
def test_the_json_schema_and_validation_agree_on_tags(tag: str) -> None:
    from jsonschema import Draft202012Validator

    schema = Draft202012Validator(vocab.asset_json_schema())
    body = {"name": "x", "kind": "fablab", "name_map": {tag: "x"}}
    schema_ok = not list(schema.iter_errors(body))
    try:
        vocab.validate_asset_input(body)
        valid = True
    except vocab.ValidationError:
        valid = False
    assert schema_ok == valid == (canonical_tag(tag) is not None)
