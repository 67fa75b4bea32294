"""Shared pieces for the security tests (docs/security.md): a node with its workers driven by
hand, remote partner servers on 127.0.0.1 that can also serve asset documents, and the counts
that show "nothing changed". No tests here."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import vocab
from federation import follows, keys
from federation.actors import RemoteActor as KnownActor
from federation.tables import followers, inbox_items
from registry.core import db
from registry.core.schema import assets
from registry.runtime import Runtime
from tests.remote_actor import RemoteActor

BASE = "http://registry.test"
FEDERATION_DEV = {"allow_private_addresses": True, "allow_http": True}
GARDEN = {
    "name": "Jardí del Poblenou",
    "kind": "community-garden",
    "summary": "Shared plots",
    "location": {"latitude": 41.4, "longitude": 2.2, "country": "ES"},
}


@dataclass
class Partner(RemoteActor):
    """A remote node: an actor with an RSA key (HTTP signatures) and an Ed25519 key
    (FEP-8b32 proofs), serving the asset documents put in `documents` at their IRIs."""

    ed_key: Any = field(default_factory=keys.generate_ed25519_key)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    webfinger_href: str | None = None  # whom its WebFinger names (default: its own actor)
    claims: str | None = None  # the actor id its actor document states (default: its own)
    plain_json: set[str] = field(default_factory=set)  # IRIs served as plain application/json

    @property
    def proof_key_id(self) -> str:
        return f"{self.actor}#ed25519-key"

    def document(self) -> dict[str, Any]:
        doc = super().document()
        if self.claims:
            doc["id"] = doc["publicKey"]["owner"] = self.claims
        doc["assertionMethod"] = [
            {
                "id": self.proof_key_id,
                "type": "Multikey",
                "controller": self.actor,
                "publicKeyMultibase": keys.ed25519_to_multikey(self.ed_key.public_key()),
            }
        ]
        return doc

    def asset(self, slug: str = "a1", **fields: Any) -> dict[str, Any]:
        """A valid asset document of this node (not yet served)."""
        now = datetime.now(UTC).replace(microsecond=0)
        record = vocab.validate_asset_input({**GARDEN, **fields})
        meta = vocab.AssetMeta(
            iri=f"{self.base}/assets/{slug}",
            attributed_to=self.actor,
            published=now,
            updated=now,
        )
        return vocab.asset_document(record, meta, self.base)

    def app(self) -> Starlette:
        app = super().app()

        async def asset(request: Request) -> Response:
            iri = f"{self.base}{request.url.path}"
            self.fetched.append(iri)
            if iri not in self.documents:
                return JSONResponse({}, status_code=404)
            media = "application/json" if iri in self.plain_json else "application/activity+json"
            return JSONResponse(self.documents[iri], media_type=media)

        async def webfinger(request: Request) -> Response:
            jrd = {
                "subject": request.query_params.get("resource"),
                "links": [
                    {
                        "rel": "self",
                        "type": "application/activity+json",
                        "href": self.webfinger_href or self.actor,
                    }
                ],
            }
            return JSONResponse(jrd, media_type="application/jrd+json")

        app.router.routes.append(Route("/assets/{name}", asset))
        app.router.routes.append(Route("/.well-known/webfinger", webfinger))
        return app

    def activity(self, kind: str, object: Any, suffix: str = "", **extra: Any) -> dict:
        return super().activity(kind, object, suffix or uuid.uuid4().hex[:8], **extra)


@contextlib.asynccontextmanager
async def running_node(
    make_app: Callable[..., object], **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """The app in-process with federation started but its workers driven by the test."""
    federation = {**FEDERATION_DEV, **overrides.pop("federation", {})}
    app = make_app(federation=federation, **overrides)
    runtime: Runtime = app.state.runtime  # type: ignore[attr-defined]
    await runtime.start_federation(run_workers=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url=BASE,
        ) as http:
            yield http, runtime
    finally:
        await runtime.stop_federation()


async def make_partner(runtime: Runtime, partner: RemoteActor) -> None:
    """Record that this node follows `partner` and was accepted (copies come only from such)."""
    async with db.write(runtime.engine) as conn:
        await follows.record_following(
            conn, KnownActor.from_document(partner.document()), f"{BASE}/follows/{partner.port}"
        )
        await follows.answer_following(conn, partner.actor, None, follows.ACCEPTED)


async def process(runtime: Runtime) -> None:
    """Apply whatever the inbox holds and send whatever the outbox holds, once."""
    fed = runtime.federation
    assert fed is not None
    await fed.processor.run_once()
    await fed.delivery.run_once()


async def count(engine: AsyncEngine, table: Any, *where: Any) -> int:
    async with db.read(engine) as conn:
        query = select(func.count()).select_from(table)
        for condition in where:
            query = query.where(condition)
        return (await conn.execute(query)).scalar_one()


async def nothing_changed(runtime: Runtime, remote: RemoteActor) -> None:
    """No inbox row, no follower, no asset, nothing sent back."""
    engine = runtime.engine
    assert await count(engine, inbox_items) == 0
    assert await count(engine, followers) == 0
    assert await count(engine, assets) == 0
    assert remote.received == []


async def stored_asset(engine: AsyncEngine, iri: str) -> Any:
    async with db.read(engine) as conn:
        return (await conn.execute(select(assets).where(assets.c.iri == iri))).first()


def assert_problem(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    for word in words:
        assert word.lower() in detail.lower(), detail
