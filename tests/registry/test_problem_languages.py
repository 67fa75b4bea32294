"""Problem documents answer in the request's language: every title in every catalog, the
details the catalogs have, and a Content-Language that names English when a detail stayed
English."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from registry.core import errors
from registry.http import (
    problems,  # noqa: F401  (defines InternalError)
)
from registry.web.i18n import SUPPORTED, translations

PROBLEM_JSON = "application/problem+json"


def every_problem_class() -> list[type[errors.Problem]]:
    found, todo = [], [errors.Problem]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("lang", [code for code in SUPPORTED if code != "en"])
def test_every_problem_title_is_in_every_catalog(lang: str) -> None:
    untranslated = {
        cls.title
        for cls in every_problem_class()
        if translations(lang).gettext(cls.title) == cls.title
    }
    assert not untranslated, f"{lang}: {sorted(untranslated)}"


async def test_a_missing_asset_is_told_in_catalan(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/assets/nope", headers={"Accept-Language": "ca,en;q=0.5"})
    assert answer.status_code == 404
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.headers["content-language"] == "ca"
    body = answer.json()
    assert body["title"] == "No trobat"
    assert body["detail"] == "no hi ha cap actiu 'nope'"
    assert body["type"].endswith("/not-found")  # the type never changes with the language


async def test_an_unknown_path_and_a_wrong_method_in_german(client: httpx.AsyncClient) -> None:
    german = {"Accept-Language": "de-DE,de;q=0.9", "Accept": PROBLEM_JSON}
    missing = await client.get("/api/nothing-here", headers=german)
    assert missing.status_code == 404
    assert missing.json()["title"] == "Nicht gefunden"
    assert missing.json()["detail"] == "unter /api/nothing-here ist nichts veröffentlicht"
    wrong = await client.put("/api/assets", headers=german)
    assert wrong.status_code == 405
    assert wrong.json()["detail"] == "PUT ist auf /api/assets nicht erlaubt"


async def test_bad_language_maps_are_refused_in_spanish_naming_the_field(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    body = {"name": "Eines", "kind": "tool-library", "name_map": {"ca_ES": "Eines", "es": 3}}
    answer = await client.post(
        "/api/assets", json=body, headers={**auth(group_token), "Accept-Language": "es"}
    )
    assert answer.status_code == 422
    assert answer.headers["content-language"] == "es"
    problem = answer.json()
    assert problem["title"] == "Los datos no son válidos"
    assert problem["detail"] == "el activo no es válido: revise name_map.ca_ES, name_map.es"
    assert {e["field"] for e in problem["errors"]} == {"name_map.ca_ES", "name_map.es"}
    listed = (await client.get("/api/assets")).json()["items"]
    assert listed == []  # nothing half-written


async def test_a_detail_no_catalog_has_stays_english_and_says_so(
    client: httpx.AsyncClient, group_token: str, auth: Callable[[str], dict]
) -> None:
    answer = await client.get(
        "/api/assets", params={"limit": "many"}, headers={"Accept-Language": "fr"}
    )
    assert answer.status_code in (400, 422)
    assert answer.json()["title"] in (
        "Requête incorrecte",
        "Un paramètre de la requête n'est pas valide",
    )
    assert answer.headers["content-language"] == "fr, en"


async def test_english_is_english(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/assets/nope")
    assert answer.headers["content-language"] == "en"
    assert answer.json()["title"] == "Not found"
