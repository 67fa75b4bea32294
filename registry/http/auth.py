"""Who a request acts for: a bearer token (API)."""

from __future__ import annotations

from starlette.requests import Request

from registry.core.errors import N_, Forbidden, Unauthorized
from registry.people.accounts import Principal
from registry.runtime import Runtime


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def optional_principal(request: Request) -> Principal | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(N_("use an 'Authorization: Bearer <token>' header"))
    return await runtime(request).authenticate(token.strip())


async def require_principal(request: Request) -> Principal:
    principal = await optional_principal(request)
    if principal is None:
        raise Unauthorized(N_("this needs a bearer token: 'Authorization: Bearer <token>'"))
    return principal


async def require_admin(request: Request) -> Principal:
    principal = await require_principal(request)
    if not principal.is_admin:
        raise Forbidden(N_("this needs an admin token"))
    return principal
