"""Builders for the AS2 activities a node sends. Pure: ids and audiences come from the caller.

Each activity has an `id`, `actor`, `object`, `to`/`cc` and `published`. Objects may be
embedded (dicts) or referenced (IRIs). `context` lets the caller add the contexts its
embedded objects need; ActivityStreams comes first when it is a list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from federation.documents import AS_CONTEXT, PUBLIC
from vocab.times import iso_utc

Object = str | Mapping[str, Any]
Context = str | Sequence[Any]


def _ref(value: Object) -> str | None:
    if isinstance(value, str):
        return value
    found = value.get("id")
    return found if isinstance(found, str) else None


def activity(
    type: str,
    *,
    id: str,
    actor: str,
    object: Object,
    to: Sequence[str] = (PUBLIC,),
    cc: Sequence[str] = (),
    published: datetime | None = None,
    context: Context = AS_CONTEXT,
    **extra: Any,
) -> dict[str, Any]:
    """Any activity; the named builders below fill in the conventions of each type."""
    doc: dict[str, Any] = {
        "@context": context if isinstance(context, str) else list(context),
        "id": id,
        "type": type,
        "actor": actor,
        "object": object if isinstance(object, str) else dict(object),
        "to": list(to),
    }
    if cc:
        doc["cc"] = list(cc)
    doc["published"] = iso_utc(published)
    doc.update(extra)
    return doc


def create(*, id: str, actor: str, object: Mapping[str, Any], **kw: Any) -> dict[str, Any]:
    return activity("Create", id=id, actor=actor, object=object, **kw)


def update(*, id: str, actor: str, object: Mapping[str, Any], **kw: Any) -> dict[str, Any]:
    return activity("Update", id=id, actor=actor, object=object, **kw)


def tombstone(
    object_iri: str, *, former_type: str | None = None, deleted: datetime | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": object_iri, "type": "Tombstone"}
    if former_type:
        # The AS context types formerType as `@id`, so a bare "Page" would be a relative IRI
        # (jsonld.js safe mode refuses it): a type name is written as the compact IRI "as:Page".
        doc["formerType"] = former_type if ":" in former_type else f"as:{former_type}"
    doc["deleted"] = iso_utc(deleted)
    return doc


def delete(
    *,
    id: str,
    actor: str,
    object_iri: str,
    former_type: str | None = None,
    deleted: datetime | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """`Delete` carrying a `Tombstone` (what Mastodon and PeerTube send and expect)."""
    gone = tombstone(object_iri, former_type=former_type, deleted=deleted)
    return activity("Delete", id=id, actor=actor, object=gone, **kw)


def announce(*, id: str, actor: str, object: Object, **kw: Any) -> dict[str, Any]:
    """Re-share another node's object by IRI (never `Create` it under our actor)."""
    return activity("Announce", id=id, actor=actor, object=object, **kw)


def follow(*, id: str, actor: str, object: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("to", [object])
    return activity("Follow", id=id, actor=actor, object=object, **kw)


def _answer(type: str, id: str, actor: str, request: Object, kw: dict[str, Any]) -> dict[str, Any]:
    # Address the answer to whoever sent the request; embed the request so that peers
    # that never stored its id (Mastodon does not for incoming Follows) still understand.
    sender = request.get("actor") if isinstance(request, Mapping) else None
    if isinstance(sender, str):
        kw.setdefault("to", [sender])
    return activity(type, id=id, actor=actor, object=request, **kw)


def accept(*, id: str, actor: str, object: Object, **kw: Any) -> dict[str, Any]:
    return _answer("Accept", id, actor, object, kw)


def reject(*, id: str, actor: str, object: Object, **kw: Any) -> dict[str, Any]:
    return _answer("Reject", id, actor, object, kw)


def undo(*, id: str, actor: str, object: Object, **kw: Any) -> dict[str, Any]:
    """Undo one of our own earlier activities (embedded, so the receiver needs no lookup)."""
    if isinstance(object, Mapping):
        for audience in ("to", "cc"):
            if audience in object:
                kw.setdefault(audience, object[audience])
    return activity("Undo", id=id, actor=actor, object=object, **kw)


def object_id(value: Object) -> str | None:
    """The id of an embedded or referenced object."""
    return _ref(value)
