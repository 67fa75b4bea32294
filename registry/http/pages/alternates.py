"""Linked data that opens in a browser: `{iri}.jsonld` beside each asset's page, and the
remote-follow step of "Follow from Mastodon".

The asset IRI negotiates (HTML for browsers, JSON-LD for machines), so a browser following a
"JSON-LD" link to it gets the page again; the `.jsonld` alternate always answers the document.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from registry.catalog.store import published_document
from registry.core import db
from registry.core.errors import NotFound
from registry.core.schema import LOCAL, PUBLISHED
from registry.http.activitypub.signed import require_signed_get
from registry.http.audience import request_audience
from registry.http.auth import runtime
from registry.http.pages.catalog import tombstone
from registry.http.pages.session import load_session
from registry.web.render import _, render

LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
HOST = re.compile(rf"^(?=.{{1,253}}$){LABEL}(\.{LABEL})+(:\d{{1,5}})?$")
ALTERNATE = {"Content-Disposition": "inline", "Access-Control-Allow-Origin": "*"}


async def _document(request: Request, local: bool) -> Response:
    await require_signed_get(request)  # the same rule as the IRI itself
    uid = request.path_params["uid"]
    audience = await request_audience(request)
    async with db.read(runtime(request).engine) as conn:
        row = await published_document(conn, uid, audience)
    if (
        row is None
        or (row.origin == LOCAL) != local
        or row.moderation != PUBLISHED
        or not row.readable
    ):
        raise NotFound(f"there is no asset {uid!r}")
    if row.deleted_at is not None:
        body = orjson.dumps(tombstone(row.iri, row.deleted_at))
        return Response(body, 410, media_type="application/ld+json", headers=ALTERNATE)
    return Response(row.document.encode(), media_type="application/ld+json", headers=ALTERNATE)


async def asset_jsonld(request: Request) -> Response:
    return await _document(request, local=True)


async def mirrored_jsonld(request: Request) -> Response:
    return await _document(request, local=False)


def server_host(typed: str) -> str | None:
    """The host of "mastodon.social", "https://mastodon.social/", or "@me@mastodon.social"."""
    text = typed.strip().lower()
    if text.count("@") >= 1 and "://" not in text:
        text = text.rsplit("@", 1)[1]
    if "://" in text:
        text = urlsplit(text).netloc
    text = text.strip("/")
    return text if HOST.match(text) else None


async def remote_follow(request: Request) -> Response:
    """GET /follow?server=host: the link to the reader's own server's follow dialog.

    A page, not a redirect: the pages' `form-action 'self'` would stop a redirect elsewhere,
    and the reader sees where they are going before they leave."""
    settings = runtime(request).settings
    await load_session(request)
    typed = request.query_params.get("server", "")
    host = server_host(typed) if typed else None
    error = None
    if typed and host is None:
        error = _("“%(typed)s” does not look like a server name; type it as mastodon.social.") % {
            "typed": typed
        }
    handle = f"{settings.node.handle}@{settings.domain}"
    target = f"https://{host}/authorize_interaction?uri={quote(handle, safe='')}" if host else None
    return render(
        request,
        "follow.html",
        status_code=400 if error else 200,
        host=host,
        target=target,
        error=error,
        typed=typed,
    )


routes = [
    Route("/assets/{uid}.jsonld", asset_jsonld, methods=["GET"], name="pages.asset_jsonld"),
    Route("/mirror/{uid}.jsonld", mirrored_jsonld, methods=["GET"], name="pages.mirror_jsonld"),
    Route("/follow", remote_follow, methods=["GET"], name="pages.follow"),
]
