"""Every request is treated as addressed to `node.base_url`, whatever its Host says.

Behind a reverse proxy the Host the application sees may be an internal name, and anyone can
send a forged `Host` or `X-Forwarded-Host`. Starlette builds `request.url` (and so every link
made from it: paging links, language links, redirects) from the Host header and the scheme,
so this middleware replaces both with the configured public origin before anything else
runs, and drops `X-Forwarded-Host`. Signature checks read the headers as received
(`received_headers`), so a signature made for another host is refused by name. The client
address (`X-Forwarded-For`) is uvicorn's business, trusted only from `network.trusted_proxies`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

_DROPPED = frozenset({b"host", b"x-forwarded-host"})
RECEIVED = "commons.received_headers"


def received_headers(request: Request) -> list[tuple[bytes, bytes]]:
    """The request's headers as the client sent them (Host included), for signature checks."""
    return request.scope.get(RECEIVED) or request.headers.raw


class CanonicalHostMiddleware:
    def __init__(self, app: ASGIApp, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.app = app
        self.scheme = parts.scheme
        self.netloc = parts.netloc.lower().encode("ascii")
        default = 443 if parts.scheme == "https" else 80
        self.server = (parts.hostname or "", parts.port or default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = [(k, v) for k, v in scope["headers"] if k not in _DROPPED]
            headers.append((b"host", self.netloc))
            scheme = self.scheme if scope["type"] == "http" else self.scheme.replace("http", "ws")
            scope = {
                **scope,
                "headers": headers,
                "scheme": scheme,
                "server": self.server,
                RECEIVED: scope["headers"],
            }
        await self.app(scope, receive, send)
