"""The Jinja environment and a render helper that every HTML page goes through.

Autoescaping is on for every template, so text from groups and from other nodes is always
shown as text. Strings are marked for translation (`_()` / `{% trans %}`); until catalogs
exist the null translations give English.
"""

from __future__ import annotations

import gettext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

import vocab
from registry import __version__

LANGUAGES = ("en", "es", "fr", "de")
HERE = Path(__file__).parent

environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
_ = gettext.gettext


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
    languages=LANGUAGES,
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
    html = environment.get_template(template).render(
        request=request,
        settings=settings,
        node=settings.node,
        base=settings.base_url,
        lang=lang,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


# Scripts and styles only from the node itself; map tiles may come from the configured host.
CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
