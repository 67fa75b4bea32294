"""A stand-in remote server for inbox tests: one actor with an RSA key, served over real HTTP
on 127.0.0.1 so that our node fetches its key the way it would fetch anyone's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from federation import keys
from federation.httpsig import CavageAuth
from tests.nodes import free_port

AS = "https://www.w3.org/ns/activitystreams"


@dataclass
class RemoteActor:
    port: int = field(default_factory=free_port)
    name: str = "remote"
    key: Any = field(default_factory=keys.generate_rsa_key)
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def actor(self) -> str:
        return f"{self.base}/users/{self.name}"

    @property
    def key_id(self) -> str:
        return f"{self.actor}#main-key"

    def document(self) -> dict[str, Any]:
        return {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": self.actor,
            "type": "Person",
            "preferredUsername": self.name,
            "inbox": f"{self.actor}/inbox",
            "outbox": f"{self.actor}/outbox",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {
                "id": self.key_id,
                "owner": self.actor,
                "publicKeyPem": keys.public_key_to_pem(self.key.public_key()),
            },
        }

    def auth(self) -> CavageAuth:
        return CavageAuth(self.key_id, self.key)

    def activity(self, kind: str, object: Any, suffix: str = "1", **extra: Any) -> dict:
        return {
            "@context": AS,
            "id": f"{self.actor}/activities/{kind.lower()}-{suffix}",
            "type": kind,
            "actor": self.actor,
            "object": object,
            **extra,
        }

    def app(self) -> Starlette:
        async def actor(request: Request) -> JSONResponse:
            return JSONResponse(self.document(), media_type="application/activity+json")

        async def inbox(request: Request) -> JSONResponse:
            self.received.append(await request.json())
            return JSONResponse({}, status_code=202)

        return Starlette(
            routes=[
                Route(f"/users/{self.name}", actor),
                Route(f"/users/{self.name}/inbox", inbox, methods=["POST"]),
                Route("/inbox", inbox, methods=["POST"]),
            ]
        )


@contextlib.asynccontextmanager
async def serving(remote: RemoteActor) -> AsyncIterator[RemoteActor]:
    config = uvicorn.Config(
        remote.app(), host="127.0.0.1", port=remote.port, log_level="error", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield remote
    finally:
        server.should_exit = True
        await task


async def follow_node(http: Any, remote: RemoteActor, federation: Any, node_actor: str) -> dict:
    """`remote` follows the node through its inbox; the node's Accept is delivered. Returns
    the Follow activity."""
    follow = remote.activity("Follow", node_actor)
    response = await http.post(
        "/inbox",
        json=follow,
        auth=remote.auth(),
        headers={"Content-Type": "application/activity+json"},
    )
    assert response.status_code == 202, response.text
    await federation.processor.run_once()
    await federation.delivery.run_once()
    return follow
