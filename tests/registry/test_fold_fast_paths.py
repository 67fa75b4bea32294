"""The fast paths of text folding and time writing give what the general ones give: they run
for every asset written (search words, document times), so a difference would split the index
or a document's content hash between nodes of different versions."""

from __future__ import annotations

import string
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from registry.catalog.folding import _WORD, fold_words
from vocab.times import iso_utc


def folded_the_long_way(value: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(stripped.casefold())


@given(st.text(alphabet=string.printable, max_size=200))
def test_ascii_text_folds_as_any_text_does(value: str) -> None:
    assert fold_words(value) == folded_the_long_way(value)


@given(st.text(max_size=80))
def test_any_text_folds_as_before(value: str) -> None:
    assert fold_words(value) == folded_the_long_way(value)


def test_accents_and_case_still_fold() -> None:
    assert fold_words("Gràcia ŒUVRE Straße") == ["gracia", "œuvre", "strasse"]
    assert fold_words("FabLab_Barcelona 2024") == ["fablab", "barcelona", "2024"]


@given(
    st.datetimes(
        min_value=datetime(1000, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30)), None]),
    )
)
def test_times_are_written_as_strftime_wrote_them(when: datetime) -> None:
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    assert iso_utc(when) == utc.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_year_before_1000_has_its_four_digits() -> None:
    """ISO 8601 writes four digits; strftime wrote `999-…` on glibc."""
    assert iso_utc(datetime(999, 5, 4, 3, 2, 1, tzinfo=UTC)) == "0999-05-04T03:02:01Z"
