"""The old IRI of an asset that moved to another node (registry/fediverse/moves.py).

People and linked-data clients are sent on with `308 Permanent Redirect`: permanent (the move
is not undone; caches and crawlers may replace the IRI) and, unlike 301, never turns the
request into another method. ActivityPub clients (`application/activity+json`, or JSON-LD
with the ActivityStreams profile) get `410 Gone` with a `Tombstone` whose `movedTo` names the
new IRI, as Mastodon's moved accounts do: a server that followed a redirect to another host
would receive an object whose `id` is not the IRI it asked for, which careful servers refuse
as a spoof, so the Tombstone tells them plainly. Both carry `Link: <new>; rel="alternate"`.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import RedirectResponse, Response

import vocab
from registry.catalog.store import published_document
from registry.core import db
from registry.core.schema import LOCAL
from registry.fediverse.moves import moved_to
from registry.http import negotiation
from vocab.times import iso

MOVE_TERMS = {"movedTo": {"@id": "as:movedTo", "@type": "@id"}}  # Mastodon's term


def wants_activitypub(accept: str | None) -> bool:
    for media in negotiation.parse_accept(accept):
        if media.q <= 0:
            continue
        if (media.type, media.subtype) == ("application", "activity+json"):
            return True
        if media.subtype == "ld+json" and negotiation.AS_PROFILE in media.params.get("profile", ""):
            return True
    return False


def moved_tombstone(old: str, new: str, deleted: Any) -> dict[str, Any]:
    return {
        "@context": [vocab.AS_CONTEXT, MOVE_TERMS],
        "id": old,
        "type": "Tombstone",
        "formerType": ["as:Page", f"{vocab.COMMONS_NS}CommonsAsset"],
        "deleted": iso(deleted),
        "movedTo": new,
    }


async def moved_response(
    engine: Any, iri: str, accept: str | None, deleted: Any
) -> Response | None:
    """The answer for `iri` if it moved away, else None (then it was simply deleted)."""
    async with db.read(engine) as conn:
        new = await moved_to(conn, iri)
    if new is None:
        return None
    headers = {"Vary": "Accept", "Link": f'<{new}>; rel="alternate"'}
    if wants_activitypub(accept):
        return Response(
            orjson.dumps(moved_tombstone(iri, new, deleted)),
            status_code=410,
            headers=headers,
            media_type=negotiation.jsonld_content_type(
                accept, negotiation.choose(accept, negotiation.JSONLD_TYPES)
            ),
        )
    return RedirectResponse(new, 308, headers=headers)


async def moved_by_uid(engine: Any, uid: str, accept: str | None) -> Response | None:
    """As `moved_response`, for a local asset named by its uid (a page that is gone)."""
    async with db.read(engine) as conn:
        row = await published_document(conn, uid)
    if row is None or row.deleted_at is None or row.origin != LOCAL:
        return None
    return await moved_response(engine, row.iri, accept, row.deleted_at)
