"""Search finds a word across its inflections in the interface's languages (Snowball stems of
the query, matched as word prefixes), the same on both databases."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from registry.catalog.fulltext import alternatives

ASSETS = [
    ("Biblioteca de eines de Gràcia", "tool-library", "Préstamo de herramientas"),
    ("Atelier des outils partagés", "tool-library", "Un outil pour chaque voisin"),
    ("Offene Werkstatt Kreuzberg", "fablab", "Werkzeuge und Maschinen"),
    ("Community garden on the hill", "community-garden", "Allotments"),
    ("Cooperativa di biblioteche popolari", "cooperative", ""),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("bibliotecas", {"Biblioteca de eines de Gràcia", "Cooperativa di biblioteche popolari"}),
        ("biblioteques", {"Biblioteca de eines de Gràcia", "Cooperativa di biblioteche popolari"}),
        ("outils", {"Atelier des outils partagés"}),
        ("Werkstätten", {"Offene Werkstatt Kreuzberg"}),
        ("gardens", {"Community garden on the hill"}),
        ("herramienta", {"Biblioteca de eines de Gràcia"}),
        ("bibliotecas gràcia", {"Biblioteca de eines de Gràcia"}),  # every word must match
        ("bibliotecas werkstatt", set()),
    ],
)
async def test_a_word_is_found_across_its_inflections(
    client: httpx.AsyncClient,
    group_token: str,
    auth: Callable[[str], dict],
    query: str,
    expected: set[str],
) -> None:
    for name, kind, summary in ASSETS:
        body = {"name": name, "kind": kind, **({"summary": summary} if summary else {})}
        assert (await client.post("/api/assets", json=body, headers=auth(group_token))).is_success
    found = (await client.get("/api/assets", params={"q": query})).json()["items"]
    assert {item["name"] for item in found} == expected


def test_short_words_are_not_stemmed_and_covered_prefixes_are_dropped() -> None:
    assert alternatives("fab") == ("fab",)
    assert alternatives("bibliotecas") == ("bibliotec",)  # covers the word itself
    assert "happy" in alternatives("happy")  # "happi" does not start "happy": both kept
