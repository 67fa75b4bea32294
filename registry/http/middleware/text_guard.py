"""Refuse NUL characters in the URL before any handler sees them.

PostgreSQL text cannot hold U+0000, so a `%00` in a path segment or a query parameter would
otherwise reach a query and fail there as a server error. (JSON bodies are checked in
`registry.http.bodies`; asset fields refuse all control characters in `vocab`.)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from registry.core.errors import BadRequest
from registry.http.problems import on_problem


class RefuseNulMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")
        ):
            request = Request(scope, receive)
            problem = BadRequest("the URL must not contain NUL characters (%00)")
            response = await on_problem(request, problem)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
