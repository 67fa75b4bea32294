"""The B5 baseline: a bare Starlette endpoint returning a stored JSON-LD document, served by
uvicorn with the same settings `commons-registry serve` uses.
`python -m bench.bare_app PORT DOCUMENT_FILE`."""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def app(document: bytes) -> Starlette:
    async def asset(request: Request) -> Response:
        return Response(document, media_type="application/activity+json")

    async def ready(request: Request) -> Response:
        return Response(b"{}", media_type="application/json")

    return Starlette(routes=[Route("/assets/{uid}", asset), Route("/ready", ready)])


if __name__ == "__main__":
    port, path = int(sys.argv[1]), Path(sys.argv[2])
    # As registry.cli.node.serve runs uvicorn (one worker, uvicorn[standard] loop and parser).
    uvicorn.run(
        app(path.read_bytes()),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        proxy_headers=True,
        server_header=False,
    )
