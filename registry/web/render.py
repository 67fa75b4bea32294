"""The Jinja environment and a render helper that every HTML page goes through.

Autoescaping is on for every template, so text from groups and from other nodes is always
shown as text. Strings are marked for translation (`_()` / `{% trans %}`); until catalogs
exist the null translations give English.
"""

from __future__ import annotations

import functools
import gettext
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

import vocab
from registry import __version__
from registry.fediverse.identity import DEFAULT_ICON
from registry.web.countries import country_name

LANGUAGES = ("en", "es", "fr", "de")
HERE = Path(__file__).parent

environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
    trim_blocks=True,
    lstrip_blocks=True,
)
LOCALE_DIR = HERE / "locale"
_language: ContextVar[str] = ContextVar("web_language", default="en")


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog `locale/{lang}/LC_MESSAGES/messages.mo`, or English (the msgids) without."""
    return gettext.translation("messages", LOCALE_DIR, languages=[lang], fallback=True)


def _gettext(message: str) -> str:
    return translations(_language.get()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_language.get()).ngettext(singular, plural, n)


# Each render sets the language; `_()` in templates then reads that language's catalog.
environment.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
_ = _gettext


def preferred_language(request: Request) -> str:
    """?lang= wins, then the first Accept-Language we have labels for, then English."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def concept_label(scheme: str, slug: str | None, lang: str = "en") -> str:
    if not slug:
        return ""
    return vocab.label(scheme, slug, lang) or slug


def scheme_label(name: str, lang: str = "en") -> str:
    return vocab.scheme(name).label(lang)


def iso(value: datetime | None) -> str:
    return (
        value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if value else ""
    )


def day(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d") if value else ""


environment.globals.update(
    concept_label=concept_label,
    concept_scheme_label=scheme_label,
    version=__version__,
    schemes=vocab.SCHEMES,
    scheme_slugs=vocab.slugs,
    languages=LANGUAGES,
    country_name=country_name,
)
environment.filters.update(iso=iso, day=day)


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    settings = request.app.state.services.settings
    lang = preferred_language(request)
    _language.set(lang)
    session = getattr(request.state, "web_session", None)
    html = environment.get_template(template).render(
        request=request,
        settings=settings,
        node=settings.node,
        base=settings.base_url,
        node_icon=settings.federation.icon_url or f"{settings.base_url}{DEFAULT_ICON}",
        lang=lang,
        # The page's language is its interface's: English until a catalog for `lang` exists.
        ui_lang=lang if type(translations(lang)) is not gettext.NullTranslations else "en",
        session=session,
        member=session.member if session else None,
        csrf_token=session.csrf_secret if session else "",
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers.setdefault("Content-Security-Policy", csp(settings.web.tile_url))
    if session is not None:  # pages for one member must not be kept by shared caches
        response.headers.setdefault("Cache-Control", "private, no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def csp(tile_url: str) -> str:
    """Scripts and styles only from the node itself; images also from the tile server."""
    tiles = urlsplit(tile_url)
    host = tiles.netloc.replace("{s}.", "*.")  # Leaflet's subdomain placeholder
    tile_origin = f" {tiles.scheme}://{host}" if tiles.scheme and host else ""
    return (
        f"default-src 'self'; img-src 'self' data:{tile_origin}; style-src 'self'; "
        "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    )


CSP = csp("")
