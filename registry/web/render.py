"""The Jinja environment and a render helper that every HTML page goes through.

Autoescaping is on for every template, so text from groups and from other nodes is always
shown as text. Strings are marked for translation (`_()` / `{% trans %}`) and translated
through the catalogs of `i18n.py`; dates and numbers are formatted for the page's language.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

import vocab
from registry import __version__
from registry.core import iris
from registry.fediverse.identity import DEFAULT_ICON
from registry.web import i18n
from registry.web.countries import country_name
from registry.web.i18n import translations
from registry.web.public_urls import public_url
from vocab.languages import localised
from vocab.times import iso as iso_or_none

LANGUAGES = i18n.SUPPORTED
HERE = Path(__file__).parent

environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
    trim_blocks=True,
    lstrip_blocks=True,
)
_language: ContextVar[str] = ContextVar("web_language", default="en")


def _gettext(message: str) -> str:
    return translations(_language.get()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_language.get()).ngettext(singular, plural, n)


def _pgettext(context: str, message: str) -> str:
    """One English word in several roles ("Follow" as a button, a heading, a column) gets a
    msgid per role, so each language can say it its own way."""
    return translations(_language.get()).pgettext(context, message)


def _npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return translations(_language.get()).npgettext(context, singular, plural, n)


# Each render sets the language; `_()` in templates then reads that language's catalog.
environment.install_gettext_callables(  # type: ignore[attr-defined]
    _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
)
_ = _gettext


def preferred_language(request: Request) -> str:
    """The page's language (see `i18n.negotiate`), which `_()` speaks from now on in this
    request: a handler that translates before it renders (chips, messages) must ask first."""
    lang = i18n.negotiate(request, request.app.state.runtime.settings.node.default_language)
    _language.set(lang)
    return lang


def concept_label(scheme: str, slug: str | None, lang: str = "en") -> str:
    if not slug:
        return ""
    return vocab.label(scheme, slug, lang) or slug


def scheme_label(name: str, lang: str = "en") -> str:
    return vocab.scheme(name).label(lang)


def iso(value: datetime | None) -> str:
    return iso_or_none(value) or ""


def day(value: datetime | None) -> str:
    """A date as people of the page's language write it ("2 de desembre de 2026")."""
    if not value:
        return ""
    return format_date(value.astimezone(UTC).date(), "long", locale=i18n.locale(_language.get()))


def number(value: int | float) -> str:
    """A count with the page's language's grouping ("2.237" in German, "2,237" in English)."""
    return format_decimal(value, locale=i18n.locale(_language.get()))


def asset_texts(record: vocab.AssetRecord, default_language: str) -> Any:
    """The record as a reader in the page's language sees it (vocab.languages.localised)."""
    return localised(record, _language.get(), default_language)


def text_language(tag: str) -> str:
    return i18n.language_name(tag, _language.get())


def problem_detail(problem: Any) -> str:
    """A problem's detail in the page's language where the catalog has it."""
    return problem.translated_detail(_gettext) or problem.detail


def asset_schema_org(asset: Any, settings: Any) -> dict[str, Any]:
    """The schema.org Dataset JSON-LD an asset page embeds for search engines."""
    from registry.catalog.dataset_links import asset_links, with_provenance

    base = settings.base_url
    return vocab.schema_org_dataset(
        *with_provenance(asset),
        asset_links(base, asset),
        catalog_name=settings.node.name,
        catalog_url=iris.dcat_catalog(base),
    )


environment.globals.update(
    asset_schema_org=asset_schema_org,
    asset_texts=asset_texts,
    problem_detail=problem_detail,
    text_language=text_language,
    concept_label=concept_label,
    concept_scheme_label=scheme_label,
    version=__version__,
    schemes=vocab.SCHEMES,
    scheme_slugs=vocab.slugs,
    languages=LANGUAGES,
    language_name=i18n.native_name,
    country_name=country_name,
)
environment.filters.update(iso=iso, day=day, number=number)


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    settings = request.app.state.runtime.settings
    lang = preferred_language(request)
    session = getattr(request.state, "web_session", None)
    html = environment.get_template(template).render(
        request=request,
        settings=settings,
        node=settings.node,
        base=settings.base_url,
        node_icon=settings.federation.icon_url or iris.static(settings.base_url, DEFAULT_ICON),
        lang=lang,
        # The page's language is its interface's: English where no catalog for `lang` exists.
        ui_lang=i18n.interface_language(lang),
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
    response.headers.setdefault("Content-Language", i18n.interface_language(lang))
    vary = response.headers.get("Vary", "")
    if "accept-language" not in vary.lower():  # shared caches must key pages on it
        response.headers["Vary"] = (
            f"{vary}, Accept-Language, Cookie" if vary else ("Accept-Language, Cookie")
        )
    if i18n.explicit_choice(request):  # remembered, so that every later page follows it
        response.set_cookie(
            i18n.COOKIE,
            lang,
            max_age=i18n.COOKIE_MAX_AGE,
            samesite="lax",
            secure=settings.base_url.startswith("https://"),
        )
    return response


# This page in another language (`language_url(request, lang=code)`), from `node.base_url`.
environment.globals["language_url"] = public_url


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
