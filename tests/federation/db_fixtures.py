"""Helpers for the outbox and delivery tests: an inbox sink server, a signing fetcher, and
reading the queue back.

`InboxSink` is a raw asyncio HTTP/1.1 server on 127.0.0.1 (keep-alive, so that throughput is
not measured in TCP handshakes) that verifies every request's HTTP signature and digest with
`federation.httpsig.verify_request`, records it, and answers the status a test chooses. It can
be stopped and started again on the same port, to play a peer that is down and comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.delivery import DeliverySettings, DeliveryWorker
from federation.fetcher import SafeFetcher
from federation.httpsig import CavageAuth, PublicKeyInfo, SignatureError, verify_request
from federation.tables import deliveries, delivery_hosts

KEY_ID = "https://registry.test/actor#main-key"
ACTOR = "https://registry.test/actor"

Answer = Callable[["Received"], "tuple[int, dict[str, str]]"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0  # what the sink answered
    verified: bool = False

    @property
    def activity_id(self) -> str | None:
        try:
            return orjson.loads(self.body).get("id")
        except orjson.JSONDecodeError:
            return None


@dataclass
class InboxSink:
    public_key: rsa.RSAPublicKey
    port: int = 0
    status: int = 202
    answer: Answer | None = None  # overrides `status`: (status, extra headers)
    hold: asyncio.Event | None = None  # when set, requests wait for it before answering
    received: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):  # also drop idle keep-alive connections
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    def url(self, path: str = "/inbox") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def delivered(self) -> list[Received]:
        """Requests that were verified and answered 2xx."""
        return [r for r in self.received if r.verified and 200 <= r.status < 300]

    async def _resolve(self, key_id: str, refresh: bool) -> PublicKeyInfo:
        return PublicKeyInfo(key_id, ACTOR, self.public_key)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                pairs = [line.split(":", 1) for line in lines[1:] if line]
                headers = {name.strip().lower(): value.strip() for name, value in pairs}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, extra = await self._handle(method, target, headers, body)
                response = [f"HTTP/1.1 {status} X", "Content-Length: 0"]
                response += [f"{name}: {value}" for name, value in extra.items()]
                writer.write(("\r\n".join(response) + "\r\n\r\n").encode("latin-1"))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str]]:
        got = Received(target, headers, body)
        self.received.append(got)
        if self.hold is not None:
            await self.hold.wait()
        try:
            await verify_request(method, self.url(target), headers, body, self._resolve)
        except SignatureError:
            got.status = 401
            return 401, {}
        got.verified = True
        if headers.get("content-type") != "application/activity+json":
            got.status = 415
            return 415, {}
        got.status, extra = self.answer(got) if self.answer else (self.status, {})
        return got.status, extra


@contextlib.asynccontextmanager
async def running_sinks(count: int, public_key: rsa.RSAPublicKey) -> AsyncIterator[list[InboxSink]]:
    sinks = [InboxSink(public_key) for _ in range(count)]
    for sink in sinks:
        await sink.start()
    try:
        yield sinks
    finally:
        for sink in sinks:
            if sink._server is not None:
                await sink.stop()


def signing_fetcher(key: rsa.RSAPrivateKey, *, deadline: float = 1.0) -> SafeFetcher:
    """The node's fetcher as tests need it: signs, and may talk plain http to 127.0.0.1."""
    return SafeFetcher(
        signer=CavageAuth(KEY_ID, key), allow_private=True, allow_http=True, deadline=deadline
    )


def activity(n: int, kind: str = "Create") -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"https://registry.test/activities/{n}",
        "type": kind,
        "actor": ACTOR,
        "object": {"id": f"https://registry.test/assets/{n}", "type": "Document", "name": "é ✓"},
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }


async def delivery_rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(select(deliveries).order_by(deliveries.c.id)))


async def host_row(engine: AsyncEngine, host: str) -> Any:
    async with engine.connect() as conn:
        query = select(delivery_hosts).where(delivery_hosts.c.host == host)
        return (await conn.execute(query)).first()


FAST = {
    "backoff_base": timedelta(seconds=0.05),
    "backoff_cap": timedelta(seconds=5),
    "lease": timedelta(seconds=1.2),
    "poll_interval": timedelta(seconds=0.05),
    "breaker_cooldown": timedelta(seconds=0.5),
}


class Workers:
    """Makes delivery workers with test-sized settings, each with its own fetcher (as if
    in its own process), and closes the fetchers at the end."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key
        self.made: list[DeliveryWorker] = []

    def __call__(
        self, engine: AsyncEngine, name: str = "w1", *, deadline: float = 0.5, **settings: Any
    ) -> DeliveryWorker:
        worker = DeliveryWorker(
            engine,
            signing_fetcher(self.key, deadline=deadline),
            DeliverySettings(**{**FAST, **settings}),
            name,
        )
        self.made.append(worker)
        return worker

    async def close(self) -> None:
        for worker in self.made:
            await worker.fetcher.aclose()
