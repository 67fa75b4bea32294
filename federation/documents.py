"""Pure builders for what a node serves: actor, WebFinger, NodeInfo, host-meta, collections.

No I/O and no knowledge of what is published: the caller passes IRIs and values in.
Activities live in `federation.activities`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.sax.saxutils import quoteattr

from vocab.times import iso_utc

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS_MEDIA_TYPE = "application/activity+json"
NODEINFO_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
APPLICATION_REL = "https://www.w3.org/ns/activitystreams#Application"
SERVICE_REL = "https://www.w3.org/ns/activitystreams#Service"
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"

# The terms Mastodon defines for these properties (its context's IRIs, so every server reads
# them alike), plus `assertionMethod`, which none of the remote contexts above defines at the
# top level (FEP-521a keys live there). Without a definition a term expands to a blank-node
# predicate (the AS context's `@vocab` is `_:`) and RDF consumers drop it.
ACTOR_EXTRAS = {
    "as": "https://www.w3.org/ns/activitystreams#",
    "toot": "http://joinmastodon.org/ns#",
    "sec": "https://w3id.org/security#",
    "schema": "http://schema.org#",
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
    "movedTo": {"@id": "as:movedTo", "@type": "@id"},
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    "assertionMethod": {"@id": "sec:assertionMethod", "@type": "@id", "@container": "@set"},
}
ACTOR_CONTEXT = [AS_CONTEXT, SECURITY_CONTEXT, MULTIKEY_CONTEXT, ACTOR_EXTRAS]
_SOFTWARE_NAME = re.compile(r"^[a-z0-9-]+$")


def _image(url: str | Mapping[str, Any] | None) -> dict[str, Any] | None:
    if url is None or isinstance(url, Mapping):
        return dict(url) if url is not None else None
    return {"type": "Image", "url": url}


def actor_document(
    *,
    actor_iri: str,
    preferred_username: str,
    name: str,
    rsa_public_pem: str,
    ed25519_multikey: str | None = None,
    summary: str = "",
    url: str | None = None,
    icon: str | Mapping[str, Any] | None = None,
    image: str | Mapping[str, Any] | None = None,
    inbox: str | None = None,
    outbox: str | None = None,
    followers: str | None = None,
    following: str | None = None,
    shared_inbox: str | None = None,
    discoverable: bool = True,
    indexable: bool = True,
    manually_approves_followers: bool = False,
    published: datetime | None = None,
    actor_type: str = "Application",
    featured: str | None = None,
    featured_tags: str | None = None,
    fields: Sequence[tuple[str, str]] = (),
    also_known_as: Sequence[str] = (),
    moved_to: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An actor document Mastodon accepts (type, preferredUsername, publicKey, AS context).

    Unset collection IRIs default to `{actor_iri}/inbox` and so on. The RSA key is
    `{actor}#main-key`; the Ed25519 key, when given, `{actor}#ed25519-key` under
    `assertionMethod` (FEP-521a), which is what FEP-8b32 proofs point at. `fields` are the
    profile's (name, HTML value) pairs, as `PropertyValue` attachments. `published` should be
    a stable time (when the actor was made): servers show it as "joined". `also_known_as`
    names the actors this one was, `moved_to` the one it became (an account move, as Mastodon
    reads it: the new actor must name this one in its `alsoKnownAs`).
    """
    doc: dict[str, Any] = {
        "@context": list(ACTOR_CONTEXT),
        "id": actor_iri,
        "type": actor_type,
        "preferredUsername": preferred_username,
        "name": name,
        "summary": summary,
        "url": url or actor_iri,
        "inbox": inbox or f"{actor_iri}/inbox",
        "outbox": outbox or f"{actor_iri}/outbox",
        "followers": followers or f"{actor_iri}/followers",
        "following": following or f"{actor_iri}/following",
        "endpoints": {"sharedInbox": shared_inbox or inbox or f"{actor_iri}/inbox"},
        "discoverable": discoverable,
        "indexable": indexable,
        "manuallyApprovesFollowers": manually_approves_followers,
        "published": iso_utc(published),
        "publicKey": {
            "id": f"{actor_iri}#main-key",
            "owner": actor_iri,
            "publicKeyPem": rsa_public_pem,
        },
    }
    if icon is not None:
        doc["icon"] = _image(icon)
    if image is not None:
        doc["image"] = _image(image)
    if featured:
        doc["featured"] = featured
    if featured_tags:
        doc["featuredTags"] = featured_tags
    if fields:
        doc["attachment"] = [
            {"type": "PropertyValue", "name": name, "value": value} for name, value in fields
        ]
    if also_known_as:
        doc["alsoKnownAs"] = list(also_known_as)
    if moved_to:
        doc["movedTo"] = moved_to
    if ed25519_multikey:
        doc["assertionMethod"] = [
            {
                "id": f"{actor_iri}#ed25519-key",
                "type": "Multikey",
                "controller": actor_iri,
                "publicKeyMultibase": ed25519_multikey,
            }
        ]
    doc.update(extra or {})
    return doc


def webfinger_jrd(
    subject: str,
    aliases: Sequence[str],
    actor_iri: str,
    profile_page: str | None = None,
    *,
    server_actor: bool = False,
) -> dict[str, Any]:
    """The WebFinger answer for an actor; `server_actor` adds the FEP-d556 Service link."""
    links: list[dict[str, Any]] = [{"rel": "self", "type": AS_MEDIA_TYPE, "href": actor_iri}]
    if server_actor:
        links.append({"rel": SERVICE_REL, "type": AS_MEDIA_TYPE, "href": actor_iri})
    if profile_page:
        links.append({"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile_page})
    return {"subject": subject, "aliases": list(aliases), "links": links}


def nodeinfo_links(base: str, actor_iri: str) -> dict[str, Any]:
    """`/.well-known/nodeinfo`: the NodeInfo 2.1 link and the FEP-2677 Application link."""
    base = base.rstrip("/")
    return {
        "links": [
            {"rel": NODEINFO_21, "href": f"{base}/nodeinfo/2.1"},
            {"rel": APPLICATION_REL, "href": actor_iri},
        ]
    }


def nodeinfo_document(
    software_name: str,
    version: str,
    repository: str | None = None,
    homepage: str | None = None,
    usage: Mapping[str, Any] | None = None,
    open_registrations: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A NodeInfo 2.1 document. Raises `ValueError` for a name the schema forbids."""
    if not _SOFTWARE_NAME.match(software_name):
        raise ValueError(f"NodeInfo software name {software_name!r} must match ^[a-z0-9-]+$")
    software = {"name": software_name, "version": version}
    if repository:
        software["repository"] = repository
    if homepage:
        software["homepage"] = homepage
    return {
        "version": "2.1",
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {"users": {}, **(usage or {})},
        "metadata": dict(metadata or {}),
    }


def host_meta_xml(base: str) -> str:
    """`/.well-known/host-meta` (XRD) pointing at the WebFinger endpoint."""
    template = f"{base.rstrip('/')}/.well-known/webfinger?resource={{uri}}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/jrd+json" template={quoteattr(template)}/>\n'
        "</XRD>\n"
    )


def ordered_collection(
    id: str, total: int, first: str | None, last: str | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first:
        doc["first"] = first
    if last:
        doc["last"] = last
    return doc


def inline_collection(id: str, items: Sequence[Any], *, ordered: bool = True) -> dict[str, Any]:
    """A small collection served whole, items inline (featured posts, featured tags)."""
    key = "orderedItems" if ordered else "items"
    return {
        "@context": AS_CONTEXT,
        "id": id,
        "type": "OrderedCollection" if ordered else "Collection",
        "totalItems": len(items),
        key: list(items),
    }


def ordered_collection_page(
    id: str,
    part_of: str,
    items: Sequence[Any],
    next: str | None = None,
    prev: str | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": id,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": list(items),
    }
    if next:
        doc["next"] = next
    if prev:
        doc["prev"] = prev
    return doc
