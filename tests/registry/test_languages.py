"""Which language a page is in: an explicit choice (kept in a cookie across pages), then
Accept-Language by its q-weights, then the node's default; links to the other languages are
built from the node's base URL; dates and numbers follow the language."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from registry.web import i18n, render
from tests.conftest import BASE_URL


def current(html: str) -> str:
    """The language the page's language picker marks as current."""
    found = re.search(r'lang="(\w+)" hreflang="\w+" aria-current="true"', html)
    assert found, "no current language in the picker"
    return found.group(1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ca-ES,ca;q=0.9,es;q=0.8,en;q=0.5,*;q=0.1", ["ca", "es", "en"]),
        ("en;q=0.2, it", ["it", "en"]),  # by weight, not by position
        ("de;q=0, fr", ["fr"]),  # q=0 means "not this one"
        ("es;q=abc, de", ["de"]),  # a broken weight counts as zero
        ("", []),
    ],
)
def test_accept_language_is_read_by_its_weights(header: str, expected: list[str]) -> None:
    assert i18n.weighted_languages(header) == expected


async def test_accept_language_then_choice_then_cookie(client: httpx.AsyncClient) -> None:
    client.headers["Accept-Language"] = "it;q=0.3, de;q=0.9, xx"
    assert current((await client.get("/")).text) == "de"
    chosen = await client.get("/search", params={"lang": "ca"})
    assert current(chosen.text) == "ca" and chosen.cookies.get("lang") == "ca"
    # Later pages, without ?lang, keep the choice over the browser's header.
    assert current((await client.get("/")).text) == "ca"
    assert current((await client.get("/vocab/kinds", headers={"Accept": "text/html"})).text) == "ca"
    client.cookies.clear()
    assert current((await client.get("/")).text) == "de"


async def test_unknown_choice_is_ignored(client: httpx.AsyncClient) -> None:
    page = await client.get("/", params={"lang": "tlh"}, headers={"Accept-Language": "fr"})
    assert current(page.text) == "fr" and "lang" not in page.cookies


async def test_the_node_default_serves_visitors_without_a_preference(
    make_app: Callable[..., object],
) -> None:
    app = make_app(node={"default_language": "es"})
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        page = await client.get("/")
    assert current(page.text) == "es"
    assert "Accept-Language" in page.headers["vary"]


async def test_language_links_come_from_the_base_url(client: httpx.AsyncClient) -> None:
    page = await client.get("/search", params={"q": "fab"}, headers={"Host": "internal:8000"})
    alternates = re.findall(r'<link rel="alternate" hreflang="(\w+)" href="([^"]+)"', page.text)
    assert {code for code, _ in alternates} == set(i18n.SUPPORTED)
    for code, href in alternates:
        assert href.startswith(f"{BASE_URL}/search?") and f"lang={code}" in href and "q=fab" in href
    picker = page.text[page.text.index('<footer class="site">') :]
    assert "internal" not in picker


def test_dates_and_numbers_follow_the_language() -> None:
    when = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    token = render._language.set("de")
    try:
        assert render.number(2237) == "2.237"
        assert render.day(when) == "2. Dezember 2026"
    finally:
        render._language.reset(token)
    token = render._language.set("ca")
    try:
        assert "desembre" in render.day(when)
    finally:
        render._language.reset(token)
    assert i18n.native_name("ca") == "Català" and i18n.native_name("de") == "Deutsch"


def english_msgids(lang: str) -> set[str]:
    """The catalog's English strings whose translation in `lang` reads differently."""
    from babel.messages.pofile import read_po

    with i18n.catalog_path(lang).open("rb") as source:
        catalog = read_po(source, locale=lang)
    found = set()
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found |= {m for m in ids if m and m not in strings and "%(" not in m}
    return found


def visible_text(html: str) -> list[str]:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return [" ".join(t.split()) for t in re.split(r"<[^>]+>", html) if t.strip()]


@pytest.mark.parametrize("lang", [code for code in i18n.SUPPORTED if code != "en"])
async def test_pages_in_each_language_leave_no_english_behind(
    client: httpx.AsyncClient, lang: str
) -> None:
    english = english_msgids(lang)
    html_headers = {"Accept": "text/html"}
    await client.get("/", params={"lang": lang})  # the choice, kept in the cookie
    for path in (
        "/",
        "/search?q=fab&country=ES&near=41.39,2.17,50",
        "/search?q=zzzz",
        "/signin",
        "/vocab/kinds",
        "/vocab/kinds/fablab",
        "/assets/nothere",
    ):
        page = await client.get(path, headers=html_headers)
        assert page.headers["content-language"] == lang, path
        assert f'<html lang="{lang}">' in page.text, path
        left = [text for text in visible_text(page.text) if text in english]
        assert not left, f"{path} in {lang} still shows English: {left}"


@pytest.mark.parametrize("lang", [code for code in i18n.SUPPORTED if code != "en"])
def test_each_catalog_is_complete_and_keeps_its_placeholders(lang: str) -> None:
    """Every string of the template translated, none fuzzy, placeholders kept (Babel's
    checkers); `make messages` after a template change leaves new strings empty until done."""
    from babel.messages.pofile import read_po

    pot = read_po((i18n.LOCALE_DIR / "messages.pot").open("rb"))
    with i18n.catalog_path(lang).open("rb") as source:
        catalog = read_po(source, locale=lang)
    missing = [m.id for m in pot if m.id and (catalog.get(m.id, context=m.context) is None)]
    assert not missing, f"{lang}: not in the catalog yet (run `make messages`): {missing}"
    empty = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))
    ]
    assert not empty, f"{lang}: untranslated or fuzzy: {empty}"
    problems = [(m.id, errors) for m, errors in catalog.check() if errors]
    assert not problems, f"{lang}: {problems}"


def test_the_template_catalog_holds_every_marked_string(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A string marked in the code or a template but not extracted yet would stay English in
    every language: `make messages` must have been run."""
    from babel.messages.frontend import CommandLineInterface
    from babel.messages.pofile import read_po

    root = i18n.LOCALE_DIR.parents[2]
    fresh = tmp_path / "fresh.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(root / "babel.cfg"),
            "-k",
            "_",
            "-k",
            "gettext",
            "-k",
            "ngettext:1,2",
            "--no-location",
            "-o",
            str(fresh),
            str(root),
        ]
    )
    extracted = {(m.context, m.id) for m in read_po(fresh.open("rb")) if m.id}
    assert len(extracted) > 100  # the extraction really read the templates
    kept = {
        (m.context, m.id) for m in read_po((i18n.LOCALE_DIR / "messages.pot").open("rb")) if m.id
    }
    assert extracted - kept == set(), "new strings: run `make messages` and translate them"


async def test_words_made_before_the_page_is_rendered_are_in_its_language(
    client: httpx.AsyncClient,
) -> None:
    """The search page builds its filter chips before rendering: they must already speak the
    page's language, whatever the request before it spoke."""
    await client.get("/", params={"lang": "en"})
    page = await client.get("/search", params={"q": "fab", "country": "ES", "lang": "es"})
    assert "Quitar filtro País: España" in page.text
