"""`proofs.canonical_json` must be byte for byte what `rfc8785` writes (RFC 8785, JCS), or raise
where it raises: a proof signed by one side and checked by the other hashes these bytes.
orjson writes the common case; these properties pin it to the reference implementation.
"""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from federation import proofs
from federation.proofs import canonical_json
from tests.federation.test_proofs import FEP_SIGNED, NOTE, W3C_CREDENTIAL

# Characters where the two key orders could part: ASCII, the BMP's private use area and
# specials (U+E000-U+FFFF sort after surrogates in UTF-16), astral characters, controls.
TRICKY = st.sampled_from(
    [
        *("a", "B", "_", "é", "\x00", "\x1f", "\x7f", '"', "\\", "\u2028", "\ue000", "\uffff"),
        *("\U00010000", "\U0001f600", "\U0010ffff", "\ud800"),
    ]
)
keys = st.one_of(st.text(max_size=6), st.text(TRICKY, max_size=4))
strings = st.one_of(st.text(), st.text(TRICKY, max_size=8))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.integers(),  # beyond ±(2^53 - 1) both must refuse
    st.floats(),  # nan and infinities both must refuse
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=1e-4, max_value=1e16),  # the range orjson writes
    st.floats(min_value=-1e16, max_value=-1e-4),
    st.builds(round, st.floats(-180, 180), st.integers(0, 8)),  # coordinates
    strings,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=6)),
    max_leaves=40,
)


def reference(value: Any) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        return type(exc)


def ours(value: Any) -> bytes | type[Exception]:
    try:
        return canonical_json(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        return type(exc)


@given(json_values)
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example({"\U0001f600": 1, "\ue000": 2, "a": 3})  # UTF-16 puts the astral key first
@example({"n": 2**53 - 1, "m": -(2**53) + 1, "big": 2**53})
@example({"f": 1.0, "g": 1e21, "h": -0.0, "i": 5e-324, "j": 1e-7, "k": 9.5e-5})
@example({"lat": 41.3965, "lon": 2.1943, "edge": 0.0001, "top": 9007199254740991.0})
@example({"top": 4503599627370495.5, "x": 1e16 - 2, "y": 0.1 + 0.2})
@example({"s": '\x00\x08\t\n\x0b\x0c\r\x1f\x7f\u2028\u2029"\\/'})
@example({"lone": "\ud800"})
def test_same_bytes_as_rfc8785(value: Any) -> None:
    assert ours(value) == reference(value)


def test_deep_nesting_falls_back_to_rfc8785() -> None:
    deep: Any = "x"
    for _ in range(300):  # beyond orjson's recursion limit
        deep = {"k": [deep]}
    assert canonical_json(deep) == rfc8785.dumps(deep)


@pytest.mark.parametrize(
    "odd", [(1, 2), {1: "int key"}, b"bytes", {"when": __import__("datetime").date(2024, 1, 1)}]
)
def test_non_json_types_behave_as_rfc8785(odd: Any) -> None:
    assert ours(odd) == reference(odd)


@pytest.mark.parametrize("document", [NOTE, W3C_CREDENTIAL, FEP_SIGNED])
def test_activitypub_documents_take_the_fast_path(document, monkeypatch) -> None:
    expected = rfc8785.dumps(document)

    def refuse(value: Any) -> bytes:
        raise AssertionError("rfc8785 was called for a document orjson can write")

    monkeypatch.setattr(proofs.rfc8785, "dumps", refuse)
    assert canonical_json(document) == expected


documents_with_context = st.dictionaries(keys, json_values, max_size=4).flatmap(
    lambda rest: st.builds(lambda context: {"@context": context, **rest}, json_values)
)


@given(documents_with_context)
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_context_seen_before_gives_the_same_bytes(document: dict[str, Any]) -> None:
    # The second time, the context may be recognised from memory instead of walked.
    assert ours(document) == reference(document)
    assert ours(document) == reference(document)


@pytest.mark.parametrize("first, then", [(1, 1.0), (1.0, 1), (1, True), (True, 1), (0, False)])
def test_a_context_equal_in_python_but_written_otherwise_is_not_taken_for_a_known_one(
    first: Any, then: Any
) -> None:
    # 1 == 1.0 == True in Python, yet JCS writes "1", "1" and "true", and orjson "1.0" for 1.0.
    context = ["https://www.w3.org/ns/activitystreams", {"@version": first, "x": "y"}]
    assert ours({"@context": context, "a": 1}) == reference({"@context": context, "a": 1})
    again = {"@context": [context[0], {"@version": then, "x": "y"}], "a": 1}
    assert ours(again) == reference(again)
