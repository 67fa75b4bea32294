"""The mirror's check reads a document in exactly our own form term by term (vocab.own_form),
and that reading never differs from the full reader's: for every asset our nodes can write it
is taken and agrees, and for any document bent from one it is either refused (the long way
is taken) or agrees too."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vocab
from registry.fediverse import copy_reading
from vocab.own_form import read_own_form

HOST = "a.example"
BASE = f"https://{HOST}"
TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029")
    | st.sampled_from(" \t<>&\"'#;·"),
    min_size=1,
    max_size=30,
).filter(str.strip)
LINES = st.lists(TEXT, min_size=1, max_size=3).map("\n".join)
URLS = st.builds(lambda n: f"https://site.example/{n}", st.integers(0, 99))
LANGUAGES = st.sampled_from(["ca", "es", "en", "fr-BE", "pt-br"])
OPTIONAL = {
    "summary": TEXT,
    "description": LINES,
    "ownership_model": st.sampled_from(vocab.slugs("ownership")),
    "governance_model": st.sampled_from(vocab.slugs("governance")),
    "status": st.sampled_from(vocab.slugs("status")),
    "steward": st.fixed_dictionaries({"name": TEXT}, optional={"id": URLS}),
    "access_conditions": LINES,
    "access_rights": st.sampled_from(["public", "restricted", "non_public", " Public "]),
    "public_access": st.booleans(),
    "free_of_charge": st.booleans(),
    "license": st.sampled_from(["CC-BY-4.0", "cc-by-sa-4.0", "MIT", "ODbL-1.0"]),
    "location": st.fixed_dictionaries(
        {},
        optional={
            "street_address": TEXT,
            "locality": TEXT,
            "region": TEXT,
            "postal_code": st.sampled_from(["08005", "1000"]),
            "country": st.sampled_from(["ES", "es", "BE"]),
        },
    ).flatmap(
        lambda place: st.one_of(
            st.just(place),
            st.builds(
                lambda lat, lon: {**place, "latitude": lat, "longitude": lon},
                st.floats(-90, 90),
                st.integers(-180, 180),
            ),
        )
    ),
    "geometry": st.builds(
        lambda x, y: {"type": "Point", "coordinates": [x, y]},
        st.floats(-180, 180),
        st.floats(-90, 90),
    ),
    "tags": st.lists(
        st.sampled_from(["#garden", "open-data", "2024", "Fab·Lab", "huerto", "Huerto", "ñu"]),
        max_size=5,
    ),
    "website": URLS,
    "same_as": st.lists(URLS, max_size=3),
    "email": st.just("hola@coop.example"),
    "telephone": st.just("+34 93 000 00 00"),
    "opening_hours": st.lists(st.sampled_from(["Mo-Fr 10:00-20:00", "Sa 10:00-14:00"])),
    "capacity": st.integers(0, 5000),
    "amenities": st.lists(st.sampled_from(["wifi", "laser cutter", "3D printer"]), max_size=3),
    "identifier": TEXT,
    "derived_from": URLS,
    "rights": LINES,
    "name_map": st.dictionaries(LANGUAGES, TEXT, max_size=3),
    "summary_map": st.dictionaries(LANGUAGES, TEXT, max_size=2),
    "description_map": st.dictionaries(LANGUAGES, LINES, max_size=2),
}
RECORDS = st.fixed_dictionaries(
    {"name": TEXT, "kind": st.sampled_from(vocab.slugs("kinds"))}, optional=OPTIONAL
).map(vocab.validate_asset_input)
WHEN = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
METAS = st.builds(
    lambda n, edited, followers, language: vocab.AssetMeta(
        iri=f"{BASE}/assets/{n}",
        url=f"{BASE}/assets/{n}",
        attributed_to=f"{BASE}/actor",
        published=WHEN,
        updated=WHEN + edited,
        followers=f"{BASE}/actor/followers" if followers else None,
        language=language,
    ),
    st.integers(0, 10**6),
    st.sampled_from([timedelta(0), timedelta(seconds=1), timedelta(days=3)]),
    st.booleans(),
    st.sampled_from([None, "en", "ca", "es"]),
)
CHECKS = settings(
    max_examples=150, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(HealthCheck),
)  # fmt: skip


def written(record: vocab.AssetRecord, meta: vocab.AssetMeta) -> dict[str, Any]:
    return vocab.asset_document(record, meta, f"{BASE}/tags")


def agrees_with_the_full_reader(document: Any) -> bool:
    """The fast reading is refused, or gives what the full reading gives, document kept."""
    fast = copy_reading._as_written(document, HOST)
    if fast is None:
        return False
    record, meta, origin, kept = copy_reading._read(document, HOST)
    assert (fast[0], fast[1], fast[2]) == (record, meta, origin)
    assert fast[3] is document and kept is document
    return True


@CHECKS
@given(RECORDS, METAS)
def test_every_asset_our_nodes_write_is_read_by_term_as_the_full_reader_reads_it(
    record: vocab.AssetRecord, meta: vocab.AssetMeta
) -> None:
    document = written(record, meta)
    assert read_own_form(document) == vocab.read_asset_document(document)
    assert agrees_with_the_full_reader(document)


def _bend(draw: st.DrawFn, value: Any) -> Any:
    """A small change of the kind a different writer makes: spacing, case, a missing or
    extra member, one more item, a number's type."""
    if isinstance(value, str):
        return draw(st.sampled_from([f" {value}", value.upper(), value + "  x", "", value[:-1]]))
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return draw(st.sampled_from([str(value), float(value) + 0.5, -value - 1]))
    if isinstance(value, list):
        if value and draw(st.booleans()):
            return [*value, value[0]]
        return [*value, "https://other.example/x"]
    if isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value)))
        bent = dict(value)
        if draw(st.booleans()):
            del bent[key]
        else:
            bent[key] = _bend(draw, value[key])
        return bent
    return {"@value": value}


@st.composite
def bent_documents(draw: st.DrawFn) -> dict[str, Any]:
    document = copy.deepcopy(written(draw(RECORDS), draw(METAS)))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from([*sorted(document), "unknownTerm"]))
        if key in document and draw(st.integers(0, 3)) == 0:
            del document[key]
        else:
            document[key] = _bend(draw, document.get(key, "x"))
    return document


@CHECKS
@given(bent_documents())
def test_a_bent_document_is_read_the_long_way_or_read_the_same(document: dict) -> None:
    try:
        agrees_with_the_full_reader(document)
    except copy_reading.CopyRefused:
        assert copy_reading._as_written(document, HOST) is None  # refused by the full reader only


@pytest.mark.parametrize(
    "bend",
    [
        lambda d: d.update(name=" " + d["name"]),  # the full reader trims it
        lambda d: d.update(keywords=[*d["keywords"], d["keywords"][0].upper()]),  # a duplicate
        lambda d: d["location"]["address"].update(addressCountry="es"),  # lower case
        lambda d: d.pop("tag"),  # keywords without their hashtags
        lambda d: d.pop("rdfType"),  # not an asset to the full reader
        lambda d: d.update(cc="as:Public"),  # a compact IRI
        lambda d: d.update(summary="<p>a warning</p>"),  # a member we do not write
    ],
)
def test_what_we_would_not_write_is_read_the_long_way(bend: Any) -> None:
    document = written(
        vocab.validate_asset_input(
            {
                "name": "Fab Lab Sants",
                "kind": "fablab",
                "tags": ["laser"],
                "location": {"locality": "Barcelona", "country": "ES"},
            }
        ),
        vocab.AssetMeta(iri=f"{BASE}/assets/1", attributed_to=f"{BASE}/actor", published=WHEN),
    )
    assert agrees_with_the_full_reader(copy.deepcopy(document))
    bend(document)
    assert copy_reading._as_written(document, HOST) is None


def test_a_copy_from_another_host_is_refused_as_before() -> None:
    meta = vocab.AssetMeta(iri="https://b.example/assets/1", published=WHEN)
    document = written(vocab.validate_asset_input({"name": "X", "kind": "fablab"}), meta)
    assert copy_reading._as_written(document, HOST) is None
    with pytest.raises(copy_reading.CopyRefused, match="may not speak for"):
        copy_reading.examine(document, HOST, None)
