"""The interface's languages: which one a request gets, and its message catalog.

Catalogs are gettext `.po` files under `web/locale/{lang}/LC_MESSAGES/messages.po`, kept in the
repository and edited by translators (see the README's "Translations"). Each is compiled in
memory the first time a process needs it (Babel's reader and MO writer), so there is no build
step to forget and no compiled file to keep in step with its source.

A request's language is, in order: an explicit choice (`?lang=`, remembered in the `lang`
cookie), the `Accept-Language` header by its q-weights, the node's `node.default_language`.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

from registry.config import INTERFACE_LANGUAGES, LOCALE_DIR

# English (the source language), then every language that has a catalog: adding a language is
# adding its `.po` file (`make language LANG=xx`).
SUPPORTED = INTERFACE_LANGUAGES
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def N_(message: str) -> str:
    """Mark a string for the catalogs where it is defined; it is translated with `_()` when
    shown (in a template or by `render._`)."""
    return message


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


COMPLETE_ENOUGH = 0.9  # below this share of translated strings a page is declared English


@functools.cache
def _compiled(lang: str) -> tuple[gettext.NullTranslations, float]:
    path = catalog_path(lang)
    if lang == "en" or not path.is_file():
        return gettext.NullTranslations(), 1.0 if lang == "en" else 0.0
    with path.open("rb") as source:
        catalog = read_po(source, locale=lang)
    messages = [m for m in catalog if m.id]
    done = sum(1 for m in messages if m.string and not m.fuzzy)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled), done / len(messages) if messages else 0.0


def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog for `lang`; English (the msgids themselves) when there is none."""
    return _compiled(lang)[0]


def interface_language(lang: str) -> str:
    """The language a page in `lang` is really written in: `lang` when its catalog is
    (nearly) complete, else English, so that `<html lang>` never claims what is not there."""
    return lang if _compiled(lang)[1] >= COMPLETE_ENOUGH else "en"


def weighted_languages(header: str) -> list[str]:
    """`Accept-Language` as primary language codes, best first (q=0 means "not this")."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().split("-")[0].lower()
        if not code or code == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, code))
    return list(dict.fromkeys(code for _, _, code in sorted(ranked)))


def explicit_choice(request: Request) -> str | None:
    """`?lang=` when it names a language we have, else None."""
    asked = request.query_params.get("lang", "")
    return asked if asked in SUPPORTED else None


def negotiate(request: Request, default: str) -> str:
    chosen = explicit_choice(request) or request.cookies.get(COOKIE, "")
    if chosen in SUPPORTED:
        return chosen
    for code in weighted_languages(request.headers.get("accept-language", "")):
        if code in SUPPORTED:
            return code
    return default if default in SUPPORTED else "en"


@functools.cache
def locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


@functools.cache
def native_name(lang: str) -> str:
    """The language's name in itself ("català", "Deutsch"), for the language picker."""
    name = locale(lang).get_display_name(lang) or lang
    return name[:1].upper() + name[1:]


@functools.cache
def language_name(tag: str, page_lang: str) -> str:
    """A language (any BCP 47 tag) named in the page's language ("castellà" on a Catalan
    page), for saying which language an asset's text is shown in; the tag if Babel has none."""
    try:
        name = Locale.parse(tag, sep="-").get_display_name(locale(page_lang))
    except (UnknownLocaleError, ValueError, TypeError):
        name = None
    return name or tag
