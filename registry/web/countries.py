"""Country names for people: the picker in the page's language, and names typed for codes.

Names come from the Unicode CLDR through Babel, so "Spain", "España", "Espagne" and
"Spanien" all mean ES, and the picker lists "Alemania" under A for a Spanish reader."""

from __future__ import annotations

import functools
import unicodedata

from babel import Locale

NAME_LANGUAGES = ("en", "es", "fr", "de", "ca", "it", "pt", "nl")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.cache
def _names(lang: str) -> dict[str, str]:
    territories = Locale.parse(lang).territories
    return {code: name for code, name in territories.items() if len(code) == 2 and code.isalpha()}


def country_name(code: str, lang: str = "en") -> str:
    return _names(lang).get(code.upper()) or _names("en").get(code.upper()) or code


@functools.cache
def _codes_by_name() -> dict[str, str]:
    found: dict[str, str] = {}
    for lang in NAME_LANGUAGES:
        for code, name in _names(lang).items():
            found.setdefault(_fold(name), code)
    return found


def country_code(typed: str) -> str | None:
    """The two-letter code for a code or a country name in one of NAME_LANGUAGES."""
    text = typed.strip()
    if len(text) == 2 and text.isascii() and text.isalpha() and text.upper() in _names("en"):
        return text.upper()
    return _codes_by_name().get(_fold(text))


def picker(codes: list[str], lang: str) -> list[tuple[str, str]]:
    """(code, name) for the given codes, sorted by name as a reader of `lang` expects."""
    return sorted(((c, country_name(c, lang)) for c in codes), key=lambda p: _fold(p[1]))
