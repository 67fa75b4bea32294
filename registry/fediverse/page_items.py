"""What a page of a partner's changes feed lists: documents to check, deletions (with the
new IRI of a moved asset), the highest sequence number, and the items that are not objects.

Pure reading, no network and no database: the syncing process reads a page here, and so
does a check worker that is sent a whole page (registry.fediverse.check_worker).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from registry.fediverse.copy_reading import on_host


class SyncError(Exception):
    """A sync that cannot go on for now; the message says why."""


class BadPage(SyncError):
    """A page that cannot be read as a page of a changes feed or a catalog."""


@dataclass
class PageItems:
    documents: list[Any] = field(default_factory=list)
    deletions: list[tuple[str, datetime | None]] = field(default_factory=list)
    moves: list[tuple[str, str]] = field(default_factory=list)  # (old IRI, new IRI)
    refusals: list[str] = field(default_factory=list)
    last_seq: int = 0  # the highest `commons:seq` of the page (0: none)


def page_parts(page: Any, url: str, link_next: str | None = None) -> tuple[list[Any], str | None]:
    """A collection page's items and the URL of the page after it (None at the end), which
    must be `link_next` where a Link header named one."""
    if not isinstance(page, dict):
        raise BadPage(f"{url} is not a collection page")
    items = page.get("orderedItems", page.get("items", []))
    if not isinstance(items, list):
        raise BadPage(f"{url}: the items are not a list")
    next_url = page.get("next")
    next_url = next_url if isinstance(next_url, str) else None
    if link_next is not None and next_url != link_next:
        raise BadPage(f"{url}: its Link header names {link_next} as the next page, not {next_url}")
    return items, next_url


def horizon(page: dict[str, Any]) -> int:
    """The oldest sequence number whose deletions the partner still lists (0: all)."""
    announced = page.get("commons:horizon")
    return announced if isinstance(announced, int) else 0


def read_items(items: list[Any], context: Any, host: str) -> PageItems:
    """Sort a page's items from the partner at `host`; documents carry the page's context
    where the page gave it once for all of them."""
    read = PageItems()
    for item in items:
        if not isinstance(item, dict):
            read.refusals.append(f"an item of the changes feed of {host} is not an object")
            continue
        seq = item.get("commons:seq")
        if isinstance(seq, int):
            read.last_seq = max(read.last_seq, seq)
        obj = item.get("object")
        if item.get("type") == "Delete":
            iri = obj.get("id") if isinstance(obj, dict) else obj
            if isinstance(iri, str):
                deleted = _when(obj.get("deleted")) if isinstance(obj, dict) else None
                read.deletions.append((iri, deleted))
                moved = moved_target(obj)
                if moved is not None and on_host(iri, host):
                    read.moves.append((iri, moved))
            continue
        if isinstance(obj, dict) and "@context" not in obj and context is not None:
            obj = {"@context": context, **obj}  # the page carried the context once
        read.documents.append(obj)
    return read


def moved_target(tombstone: Any) -> str | None:
    """The new IRI a tombstone names (`movedTo`, in any of its spellings), if any."""
    if not isinstance(tombstone, dict):
        return None
    for name in ("as:movedTo", "movedTo", "https://www.w3.org/ns/activitystreams#movedTo"):
        value = tombstone.get(name)
        value = value.get("id") if isinstance(value, dict) else value
        if isinstance(value, str):
            return value
    return None


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def next_link(header: str | None, base: str) -> str | None:
    """The target of a `Link` header's rel="next" (RFC 8288), if it names one, resolved
    against `base`, the URL of the response that carried it."""
    for found in _LINK.finditer(header or ""):
        for param in found[2].split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "rel" and "next" in value.strip().strip('"').split():
                return urljoin(base, found[1])
    return None


_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]*)*)")
