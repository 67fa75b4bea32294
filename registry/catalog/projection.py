"""Columns derived from an asset's record: what search filters, sorts and matches on.

Every writer of the assets table (the API, the importer, the mirror) goes through `project`, so
the projections cannot drift from the document they are derived from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

import vocab
from registry.catalog.fulltext import fold


@dataclass(frozen=True)
class Projection:
    name: str
    kind: str
    status: str
    country: str | None
    locality: str | None
    latitude: float | None
    longitude: float | None
    search_name: str
    search_text: str
    tags: tuple[str, ...]

    def columns(self) -> dict[str, Any]:
        """The projections kept on the `assets` row (search_text lives in `asset_search`)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "country": self.country,
            "locality": self.locality,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "search_name": self.search_name,
        }


def project(record: vocab.AssetRecord) -> Projection:
    location = record.location
    steward = record.steward
    kind_label = vocab.label("kinds", record.kind, "en") if record.kind else None
    text_parts = [
        record.summary,
        record.description,
        " ".join(record.tags or ()),
        kind_label,
        steward.name if steward else None,
    ]
    if location is not None:
        text_parts += [
            location.locality,
            location.region,
            location.street_address,
            location.postal_code,
            location.country,
        ]
    return Projection(
        name=record.name,
        kind=record.kind,
        status=record.status or "active",
        country=location.country if location else None,
        locality=location.locality if location else None,
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
        search_name=fold([record.name]),
        search_text=fold(text_parts),
        tags=tuple(dict.fromkeys(tag.casefold() for tag in record.tags or ())),
    )


def content_hash(document: dict[str, Any]) -> str:
    """SHA-256 of the document in a canonical form, the same on every node holding a copy."""
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
