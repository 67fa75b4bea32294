"""Benchmark data: the real fablabs of the packaged sample (registry/catalog/samples: names, places,
coordinates), multiplied with variation (kind, name prefix, a few kilometres of jitter) up to
any size, reproducibly."""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from registry.catalog.importers.okw import OkwAdapter
from tests.sample_data import fablab_records

KINDS = [
    "fablab",
    "community-garden",
    "tool-library",
    "cooperative",
    "open-hardware",
    "community-land-trust",
    "open-dataset",
]
PREFIXES = {
    "fablab": "",
    "community-garden": "Jardí comunitari",
    "tool-library": "Tool library",
    "cooperative": "Coop",
    "open-hardware": "Open hardware",
    "community-land-trust": "Land trust",
    "open-dataset": "Open data",
}
OWNERSHIP = ["commons", "cooperative", "public", "community-land-trust"]
WORDS = ["workshop", "repair", "solar", "seeds", "bicycles", "wood", "textiles", "electronics"]


@lru_cache(maxsize=1)
def places() -> list[dict[str, Any]]:
    """The fablabs with a name and coordinates, as asset input fields."""
    adapter = OkwAdapter()
    found = []
    for index, item in enumerate(fablab_records()):
        row = adapter.row(index, item)
        location = (row.fields or {}).get("location") or {}
        if row.fields and "latitude" in location:
            found.append(row.fields)
    return found


def asset_fields(n: int, seed: int = 8) -> dict[str, Any]:
    """The n-th generated asset: the same n always gives the same fields."""
    base = places()[n % len(places())]
    rng = random.Random(seed * 1_000_003 + n)
    kind = KINDS[n % len(KINDS)]
    copy = n // len(places())
    location = dict(base["location"])
    if copy:  # the original place first, then copies spread within ~5 km
        location["latitude"] = round(location["latitude"] + rng.uniform(-0.05, 0.05), 6)
        location["longitude"] = round(location["longitude"] + rng.uniform(-0.05, 0.05), 6)
    location["latitude"] = max(-90.0, min(90.0, location["latitude"]))
    location["longitude"] = max(-180.0, min(180.0, location["longitude"]))
    prefix = PREFIXES[kind]
    name = f"{prefix} {base['name']}".strip() + (f" {copy + 1}" if copy else "")
    word = WORDS[n % len(WORDS)]
    return {
        "name": name[:200],
        "kind": kind,
        "status": "active",
        "summary": f"{(base.get('summary') or base['name'])[:300]} ({word})",
        "tags": [kind, word],
        "ownership_model": OWNERSHIP[n % len(OWNERSHIP)],
        "location": location,
        "rights": base.get("rights"),
    }


def generate(count: int, start: int = 0) -> Iterator[dict[str, Any]]:
    for n in range(start, start + count):
        yield asset_fields(n)


def search_terms() -> list[str]:
    """Words people would search for: localities and words of real names."""
    words: set[str] = set()
    for fields in places():
        locality = fields["location"].get("locality")
        if locality and locality.isalpha() and len(locality) > 3:
            words.add(locality)
        for word in fields["name"].split():
            if word.isalpha() and len(word) > 4:
                words.add(word)
    return sorted(words)
