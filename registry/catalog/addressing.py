"""The visibility rule as federation carries it: which visibilities are delivered to whom,
and how an asset document's addressing (`to`/`cc`) says its visibility, both ways.

Pure, with no database: a sync's check workers read a copy's visibility from its document
and import this, not the SQL half of the rule (registry.catalog.visibility).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vocab.namespaces import AS_PUBLIC

PUBLIC, UNLISTED, PARTNERS, GROUP = "public", "unlisted", "partners", "group"
VISIBILITIES = (PUBLIC, UNLISTED, PARTNERS, GROUP)
_PUBLIC_NAMES = {AS_PUBLIC, "as:Public", "Public"}


def delivered_to_followers(visibility: str) -> bool:
    """Sent to (and listed in the outbox for) every follower of the node and of its group."""
    return visibility in (PUBLIC, UNLISTED)


def delivered_to_partners(visibility: str) -> bool:
    return visibility in (PUBLIC, UNLISTED, PARTNERS)


def addressing(visibility: str, followers: Iterable[str]) -> dict[str, list[str]]:
    """`to`/`cc` of an asset document and its activities (Mastodon reads visibility there):
    public to Public; unlisted to the followers with Public in cc; partners to the followers
    only (and delivered only to partners); group to nobody."""
    followers = list(followers)
    if visibility == PUBLIC:
        return {"to": [AS_PUBLIC], "cc": followers}
    if visibility == UNLISTED:
        return {"to": followers, "cc": [AS_PUBLIC]}
    if visibility == PARTNERS:
        return {"to": followers, "cc": []}
    return {"to": [], "cc": []}


def _names(value: Any) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {i.get("id") if isinstance(i, dict) else i for i in items if i} - {None}


def of_document(document: dict[str, Any]) -> str:
    """The visibility a copy keeps, read from its addressing (what `addressing` wrote); a
    document addressed to nobody at all (older forms) is public, as it always was."""
    if "to" not in document and "cc" not in document:
        return PUBLIC
    if _PUBLIC_NAMES & _names(document.get("to")):
        return PUBLIC
    if _PUBLIC_NAMES & _names(document.get("cc")):
        return UNLISTED
    return PARTNERS  # neither: it came only to partners, so it stays with them
