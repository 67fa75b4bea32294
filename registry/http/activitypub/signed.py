"""Signed requests from other servers: the URL they signed, and authorized fetch."""

from __future__ import annotations

from starlette.requests import Request

from federation.httpsig import SignatureError, verify_request
from registry.core.errors import Problem, Unauthorized
from registry.fediverse.federation import Federation
from registry.http.auth import runtime
from registry.http.middleware.canonical import received_headers

CHALLENGE = {"WWW-Authenticate": 'Signature realm="commons-registry"', "Vary": "Accept"}


def federation(request: Request) -> Federation:
    fed = runtime(request).federation
    if fed is None:
        raise Problem("federation is not running")  # only before start-up completes
    return fed


def absolute_url(request: Request) -> str:
    """The URL the client asked for, as it signed it: our public base and the raw path."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    url = runtime(request).settings.base_url + raw_path.decode("latin-1")
    return f"{url}?{query.decode('latin-1')}" if query else url


async def require_signed_get(request: Request) -> None:
    """Authorized fetch: with it on, ActivityPub documents go only to signed requests."""
    if not runtime(request).settings.federation.authorized_fetch:
        return
    fed = federation(request)
    try:
        await verify_request(
            "GET",
            absolute_url(request),
            received_headers(request),
            b"",
            fed.directory.resolve_key,
            window=fed.inbox.policy.window,
        )
    except SignatureError as exc:
        raise Unauthorized(
            f"this node requires signed requests: {exc.reason}", headers=CHALLENGE
        ) from None
    except Exception as exc:  # the signer's key could not be fetched
        raise Unauthorized(
            f"the request's signature cannot be checked: {exc}", headers=CHALLENGE
        ) from None
