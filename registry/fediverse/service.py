"""The node's federation, assembled: fetcher, actor directory, inbox, handlers, workers.

Built once per process from the settings and the node's keys. The web server runs the
workers in the background by default; `commons-registry worker` runs only the workers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from federation.actors import ActorDirectory
from federation.delivery import DeliverySettings, DeliveryWorker
from federation.dispatch import DispatchSettings, Handlers, InboxProcessor
from federation.fetcher import SafeFetcher
from federation.hosts import InvalidHost, normalize_host
from federation.httpsig import SkewWindow
from federation.inbox import Inbox, InboxPolicy
from registry import __version__
from registry.config import Settings
from registry.fediverse import asset_handlers, follow_handlers
from registry.fediverse.identity import NodeIdentity
from registry.fediverse.publishing import Publisher

log = logging.getLogger("registry.federation")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _hosts(values: list[str]) -> set[str]:
    hosts = set()
    for value in values:
        try:
            hosts.add(normalize_host(value.split("://", 1)[-1].split("/", 1)[0]))
        except InvalidHost:
            log.warning("ignoring unusable host %r in the configuration", value)
    return hosts


def within(host: str, domains: set[str]) -> bool:
    """Whether `host` is one of `domains` or a subdomain of one."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    parts = name.split(".")
    return host in domains or any(".".join(parts[i:]) in domains for i in range(len(parts)))


class Federation:
    def __init__(self, settings: Settings, engine: AsyncEngine, node: NodeIdentity) -> None:
        fed = settings.federation
        self.settings = settings
        self.engine = engine
        self.node = node
        self.fetcher = SafeFetcher(
            signer=node.signer(),
            user_agent=f"commons-registry/{__version__} (+{node.base}/)",
            allow_private=fed.allow_private_addresses,
            allow_http=fed.allow_http,
            deadline=fed.fetch_timeout_seconds,
            max_bytes=fed.fetch_max_bytes,
        )
        self.directory = ActorDirectory(engine, self.fetcher)
        self.blocked_domains = _hosts(fed.blocked_domains)
        # Partners: configured ones, plus those added at run time (loaded at start-up).
        self.partner_hosts: set[str] = _hosts(settings.mirror.partners)
        self.handlers = Handlers()
        self.on_following_accepted: list[Callable[[AsyncConnection, str], Awaitable[None]]] = []
        follow_handlers.register(
            self.handlers,
            node,
            self.directory,
            blocked=self.blocked,
            is_partner=self.is_partner,
            on_following_accepted=self.on_following_accepted,
        )
        asset_handlers.register(self.handlers, node, self.directory)
        self.processor = InboxProcessor(engine, self.handlers, DispatchSettings(), worker_name())
        self.inbox = Inbox(
            engine,
            self.directory,
            InboxPolicy(
                window=SkewWindow(
                    past=timedelta(seconds=fed.clock_skew_past_seconds),
                    future=timedelta(seconds=fed.clock_skew_future_seconds),
                ),
                blocked=self.blocked,
                max_body_bytes=settings.server.max_body_bytes,
            ),
            on_stored=self.processor.wake,
        )
        self.delivery = DeliveryWorker(
            engine,
            self.fetcher,
            DeliverySettings(
                max_age=timedelta(days=fed.delivery_max_age_days),
                backoff_base=timedelta(seconds=fed.delivery_retry_base_seconds),
                concurrency=fed.delivery_concurrency,
                per_host=fed.delivery_per_host,
            ),
            worker_name(),
        )
        self.publisher = Publisher(node)
        self.background: list[Callable[[asyncio.Event], Awaitable[None]]] = [
            self.processor.run,
            self.delivery.run,
        ]
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def is_partner(self, host: str) -> bool:
        return host in self.partner_hosts

    def blocked(self, host: str) -> bool:
        """Refused: a blocked domain, or anyone but a partner in allowlist mode."""
        if within(host, self.blocked_domains):
            return True
        return self.settings.mirror.partners_only and not self.is_partner(host)

    def start(self) -> None:
        """Run the workers (inbox, deliveries, and whatever the application added)."""
        self._stop.clear()
        self._tasks = [asyncio.create_task(run(self._stop)) for run in self.background]

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        self._tasks = []
        await self.fetcher.aclose()
