"""The hottest request, answered before the rest of the stack: GET or HEAD /assets/{uid} as
JSON-LD when the document is in the cache (registry.catalog.document_cache).

Every server that sees an asset announced fetches it, within seconds of the others. Such a
request needs none of what the rest of the stack is for: a session, links built from the
canonical host, a walk through the route table, the NUL guard (a uid found in the cache has
none). What it does need is done here as the stack does it: the rate limiter's count, the
request id, the latency metric under the route's own label, the access line in JSON mode.
A miss, a page, a query string, a node that requires signed fetches: all of these go down
the stack, which answers them; a request over its allowance goes down with the limiter's
verdict (counted once) and gets its 429 there. tests/registry/test_hot_documents.py checks
that both ways give the same answer.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from registry.core.errors import NotAcceptable
from registry.http import negotiation
from registry.http.middleware.ratelimit import COUNTED, Limits
from registry.ops.metrics import Metrics
from registry.ops.requestlog import log_access, request_id_of

PREFIX = "/assets/"
ROUTE_LABEL = "/assets/{uid}"  # the label the route's own requests have in the metrics


class HotDocumentsMiddleware:
    def __init__(
        self, app: ASGIApp, *, runtime: Any, limits: Limits, metrics: Metrics, access_log: bool
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.limits = limits
        self.metrics = metrics
        self.access_log = access_log
        settings = runtime.settings
        self.on = settings.server.document_cache_seconds > 0 and not (
            settings.federation.authorized_fetch
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.on
            and scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and not scope.get("query_string")
            and scope["path"].startswith(PREFIX)
        ):
            uid = scope["path"][len(PREFIX) :]
            if uid and "/" not in uid and "." not in uid and await self._answer(scope, uid, send):
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, uid: str, send: Send) -> bool:
        """Send the cached document and say True, or say False and send nothing."""
        started = time.perf_counter()
        accept = next((v for k, v in scope["headers"] if k == b"accept"), None)
        accept_text = accept.decode("latin-1") if accept is not None else None
        try:
            chosen = negotiation.choose(accept_text, negotiation.PAGE_FIRST)
        except NotAcceptable:
            return False
        if chosen == negotiation.HTML:
            return False
        body = await self.runtime.cached_document(uid)
        if body is None:
            return False
        if self.limits.enabled:
            problem = self.limits.check_request(scope, Headers(scope=scope))
            if problem is not None:
                scope[COUNTED] = problem
                return False
        content_type = negotiation.jsonld_content_type(accept_text, chosen)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", content_type.encode("latin-1")),
                    (b"vary", b"Accept"),
                    (b"x-request-id", request_id_of(scope).encode("latin-1")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        self.metrics.latency.labels(ROUTE_LABEL, scope["method"]).observe(
            time.perf_counter() - started
        )
        if self.access_log:
            log_access(scope, 200, started)
        return True
