"""Who a request is, for the visibility rule (registry.catalog.visibility): the signed-in member or
the bearer token's group or admin, and whether a partner node signed it."""

from __future__ import annotations

from starlette.requests import Request

from federation.hosts import host_of
from federation.httpsig import verify_request
from registry.catalog.visibility import Audience, audience_of
from registry.http.activitypub.signed import absolute_url
from registry.http.auth import runtime
from registry.http.middleware.canonical import received_headers
from registry.http.pages.session import load_session
from registry.people.accounts import Principal

_SIGNED = ("signature", "signature-input")


async def signed_by_partner(request: Request) -> bool:
    """Whether the request carries a valid HTTP signature of a partner node's actor. No
    signature costs nothing; a bad one is simply not a partner's (the answer is then what
    anyone gets, never an error)."""
    headers = request.headers
    authorization = headers.get("authorization", "")
    if not any(name in headers for name in _SIGNED) and not authorization.startswith("Signature "):
        return False
    fed = runtime(request).federation
    if fed is None:
        return False
    try:
        verified = await verify_request(
            request.method,
            absolute_url(request),
            received_headers(request),
            b"",
            fed.directory.resolve_key,
            window=fed.inbox.policy.window,
        )
        host = host_of(verified.owner)
    except Exception:  # a bad signature, an unreachable key, a malformed owner
        return False
    return fed.is_partner(host) and not fed.domain_blocked(host)


async def request_audience(request: Request, principal: Principal | None = None) -> Audience:
    """The audience of a request: `principal` (a bearer token) or else the browser session,
    plus a partner's signature."""
    if principal is None and "authorization" not in request.headers:
        session = await load_session(request)
        principal = session.member.principal if session else None
    return audience_of(principal, partner=await signed_by_partner(request))
