"""The asset form's texts per language: a folded set of name, summary and description for
each interface language (and any other the asset has), posted into the record's language
maps, errors beside their input, read back when editing; on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import httpx

from tests.web.test_sessions_and_forms import csrf_of, sign_in


async def test_texts_per_language_travel_through_the_form(
    web: httpx.AsyncClient, people: dict[str, str]
) -> None:
    await sign_in(web, "alice")
    blank = (await web.get("/my/assets/new", headers={"Accept-Language": "ca"})).text
    for tag in ("ca", "es", "fr", "de", "it", "en"):
        assert f'name="name@{tag}"' in blank and f'name="description@{tag}"' in blank
    assert "<summary>En espanyol</summary>" in blank  # a language's set, titled in Catalan
    assert "<fieldset>\n    <legend>En català</legend>" in blank  # the page's own: open

    typed = {
        "csrf_token": await csrf_of(web),
        "name": "Biblioteca d'eines",
        "kind": "tool-library",
        "name@ca": "Biblioteca d'eines",
        "name@es": "Biblioteca de herramientas",
        "summary@es": "Herramientas en préstamo",
        "name@pt_BR": "Biblioteca de ferramentas",  # not a language tag
    }
    refused = await web.post("/my/assets/new", data=typed)
    assert refused.status_code == 422
    assert re.search(r'id="f-name@pt_BR"[^>]*aria-invalid="true"', refused.text)
    assert "Use a language code, such as ca, es or pt-BR." in refused.text
    assert 'value="Herramientas en préstamo"' in refused.text  # what was typed is kept

    typed["name@pt-BR"] = typed.pop("name@pt_BR")
    saved = await web.post("/my/assets/new", data=typed)
    assert saved.status_code == 303, saved.text
    uid = saved.headers["location"].rsplit("saved=", 1)[1]
    edit = (await web.get(f"/my/assets/{uid}/edit")).text  # the stored record, read back
    for column in ("name@ca", "name@es", "summary@es", "name@pt-BR"):
        value = typed[column].replace("'", "&#39;")
        assert re.search(rf'name="{column}"[^>]* value="{value}"', edit), column
    assert "<summary>In Portuguese (Brazil)</summary>" in edit  # a set of its own
    assert re.search(r'<details class="more language" open><summary>In Spanish</summary>', edit)
