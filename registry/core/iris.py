"""The node's IRIs, minted from `base_url` where no request is at hand (the catalog, the
fediverse room). The HTTP route table serves each of them under a named route; a test
(tests/registry/test_routes.py) resolves every IRI made here to that route, so the two agree.

A partner runs the same software, so the same functions name a partner's feeds from its base.
"""

from __future__ import annotations

from urllib.parse import quote

ACTOR_PATH = "/actor"


def home(base: str) -> str:
    return f"{base}/"


def asset(base: str, uid: str) -> str:
    """A local asset: its IRI and its page (content negotiation picks the form)."""
    return f"{base}/assets/{uid}"


def mirrored_asset(base: str, uid: str) -> str:
    """The page where this node shows its copy of a partner's asset."""
    return f"{base}/mirror/{uid}"


def asset_page(base: str, uid: str, *, local: bool) -> str:
    return asset(base, uid) if local else mirrored_asset(base, uid)


def api_asset(base: str, uid: str) -> str:
    return f"{base}/api/assets/{uid}"


def tags(base: str) -> str:
    """Hashtag links are this plus `/<tag>` (vocab builds them from this base)."""
    return f"{base}/tags"


def tag(base: str, name: str) -> str:
    return f"{tags(base)}/{quote(name, safe='')}"


def actor(base: str) -> str:
    return f"{base}{ACTOR_PATH}"


def actor_inbox(base: str) -> str:
    return f"{actor(base)}/inbox"


def shared_inbox(base: str) -> str:
    return f"{base}/inbox"


def outbox(base: str) -> str:
    return f"{actor(base)}/outbox"


def followers(base: str) -> str:
    return f"{actor(base)}/followers"


def following(base: str) -> str:
    return f"{actor(base)}/following"


def featured(base: str) -> str:
    return f"{actor(base)}/featured"


def featured_tags(base: str) -> str:
    return f"{actor(base)}/tags"


def activity(base: str, activity_id: str) -> str:
    return f"{base}/activities/{activity_id}"


def changes(base: str) -> str:
    """The partner feed of changes (registry.catalog.changes)."""
    return f"{base}/changes"


def catalog(base: str) -> str:
    """The partner feed of the whole catalog, paged."""
    return f"{base}/catalog"


def webfinger(base: str) -> str:
    return f"{base}/.well-known/webfinger"


def nodeinfo_links(base: str) -> str:
    return f"{base}/.well-known/nodeinfo"


def static(base: str, path: str) -> str:
    return f"{base}/static/{path.lstrip('/')}"


def key_id(base: str) -> str:
    """The actor's RSA key (HTTP signatures)."""
    return f"{actor(base)}#main-key"


def proof_key_id(base: str) -> str:
    """The actor's Ed25519 key (object integrity proofs)."""
    return f"{actor(base)}#ed25519-key"


def asset_geojson(base: str, uid: str) -> str:
    return f"{asset(base, uid)}.geojson"


def asset_csv(base: str, uid: str) -> str:
    return f"{asset(base, uid)}.csv"


def dcat_catalog(base: str) -> str:
    """The DCAT-AP catalog: its IRI and where it is served."""
    return f"{base}/dcat/catalog.jsonld"


def group_iri(base: str, slug: str) -> str:
    """A commons group's actor."""
    return f"{base}/groups/{slug}"


def group_followers_iri(base: str, slug: str) -> str:
    return f"{group_iri(base, slug)}/followers"
