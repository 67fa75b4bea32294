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
from federation import shared_contexts
from registry.catalog.folding import fold
from registry.core import stored_documents


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
    # Every language's texts are indexed: a query in any of them (stemmed, see
    # registry.catalog.fulltext) finds the asset, whichever language its page is then shown in.
    names = [text for _, text in record.name_map]
    summaries = [text for _, text in record.summary_map]
    descriptions = [text for _, text in record.description_map]
    text_parts = [
        *names,
        record.summary,
        *summaries,
        record.description,
        *descriptions,
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
        search_name=_capped(fold([record.name, *names])),
        search_text=fold(text_parts),
        tags=tuple(dict.fromkeys(tag.casefold() for tag in record.tags or ())),
    )


# search_name has a B-tree index, whose entries PostgreSQL caps near 2.7 kB; names past this
# (forty languages of long names) are still matched through search_text, only not ranked.
_NAME_BYTES = 1500


def _capped(folded: str) -> str:
    if len(folded.encode()) <= _NAME_BYTES:
        return folded
    cut = folded.encode()[:_NAME_BYTES].decode(errors="ignore")
    return cut.rsplit(" ", 1)[0]


def content_hash(document: dict[str, Any]) -> str:
    """SHA-256 of the document in a canonical form, the same on every node holding a copy."""
    return hashlib.sha256(shared_contexts.dumps_sorted(document)).hexdigest()


def dump(document: dict[str, Any]) -> str:
    """A document as the database stores it."""
    return orjson.dumps(document).decode()


@dataclass(frozen=True)
class StoredForm:
    """The CPU part of writing a document: its stored text, content hash and projection.
    Made once, where it is cheapest (a mirror makes it where it checks the copy, before the
    write transaction, in a worker process during a large sync)."""

    text: str  # as stored: its known contexts by reference (registry.core.stored_documents)
    content_hash: str
    projection: Projection


def stored_form(
    record: vocab.AssetRecord, document: dict[str, Any], stored_text: str | None = None
) -> StoredForm:
    """`stored_text`: the document already in its stored form, when the caller has it (a
    check worker is sent each document that way)."""
    if stored_text is None:
        stored_text = stored_documents.dumps(document)
    return StoredForm(stored_text, content_hash(document), project(record))
