"""Which content types carry an ActivityPub document (Mastodon CVE-2024-25623's lesson).

A JSON file uploaded as media on some server is served there as `application/json` (or as an
image, or anything): fetched as an actor or an object, or POSTed to an inbox, it must not be
taken for one. Only `application/activity+json` and `application/ld+json` with the
ActivityStreams profile are; plain `application/json` only from a host that a named
compatibility rule lists.
"""

from __future__ import annotations

AS_PROFILE = "https://www.w3.org/ns/activitystreams"
ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"


def _parts(content_type: str | None) -> tuple[str, dict[str, str]]:
    media, *params = (content_type or "").split(";")
    found = {}
    for param in params:
        name, _, value = param.partition("=")
        found[name.strip().lower()] = value.strip().strip('"')
    return media.strip().lower(), found


def media_type(content_type: str | None) -> str:
    return _parts(content_type)[0]


def is_activitypub(content_type: str | None) -> bool:
    """`application/activity+json`, or `application/ld+json` whose profile names ActivityStreams."""
    media, params = _parts(content_type)
    if media == ACTIVITY_JSON:
        return True
    return media == LD_JSON and AS_PROFILE in params.get("profile", "").split()
