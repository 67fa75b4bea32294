"""The node's federation, assembled: fetcher, actor directory, inbox, handlers, workers.

Built once per process from the settings and the node's keys. The web server runs the
workers in the background by default; `commons-registry worker` runs only the workers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.actors import ActorDirectory
from federation.delivery import DeliverySettings, DeliveryWorker
from federation.dispatch import DispatchSettings, Handlers, InboxProcessor
from federation.fetch_failures import FailureCache
from federation.fetcher import SafeFetcher
from federation.hosts import InvalidHost, normalize_host
from federation.httpsig import SkewWindow
from federation.inbox import Inbox, InboxPolicy
from federation.netguard import Resolver, mapped_resolver
from registry import __version__
from registry.config import Settings
from registry.fediverse.blocks import BlockGuard, DomainBlocklist, covers
from registry.fediverse.group_actors import GroupActors
from registry.fediverse.handler_table import build_handlers
from registry.fediverse.identity import NodeIdentity
from registry.fediverse.inbox_context import FollowAccepted, InboxContext
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


def outgoing_tls(settings: Settings) -> ssl.SSLContext:
    """Public CAs, plus `network.ca_bundle` when one is configured."""
    context = httpx.create_ssl_context(trust_env=False)
    if settings.network.ca_bundle:
        context.load_verify_locations(cafile=settings.network.ca_bundle)
    return context


def outgoing_resolver(settings: Settings) -> Resolver | None:
    """DNS, except for the names `network.host_addresses` pins (tests, staging)."""
    mapping = settings.network.host_address_map()
    return mapped_resolver(mapping) if mapping else None


def build_fetcher(settings: Settings, signer: httpx.Auth | None) -> SafeFetcher:
    """The node's one way out: address policy, TLS trust and name pinning from the settings."""
    fed = settings.federation
    return SafeFetcher(
        signer=signer,
        user_agent=f"commons-registry/{__version__} (+{settings.base_url}/)",
        allow_private=fed.allow_private_addresses,
        allowed_networks=settings.network.allowed_networks,
        allow_http=fed.allow_http,
        verify=outgoing_tls(settings),
        resolver=outgoing_resolver(settings),
        deadline=fed.fetch_timeout_seconds,
        max_bytes=fed.fetch_max_bytes,
        plain_json_hosts=_hosts(fed.plain_json_hosts),
    )


class Federation:
    def __init__(self, settings: Settings, engine: AsyncEngine, node: NodeIdentity) -> None:
        fed = settings.federation
        self.settings = settings
        self.engine = engine
        self.node = node
        self.fetcher = build_fetcher(settings, node.signer())
        self.directory = ActorDirectory(
            engine,
            self.fetcher,
            key_max_age=timedelta(hours=fed.key_max_age_hours),
            failures=FailureCache(
                host_seconds=fed.failed_host_seconds, url_seconds=fed.failed_url_seconds
            ),
            max_fetches=fed.max_key_fetches,
        )
        self.blocked_domains = _hosts(fed.blocked_domains)
        # Blocks the admins made at run time (database), shared by every process.
        self.blocklist = DomainBlocklist(engine)
        # Partners: configured ones, plus those added at run time (loaded at start-up).
        self.partner_hosts: set[str] = _hosts(settings.mirror.partners)
        self.on_following_accepted: list[FollowAccepted] = []
        self.inbox_context = InboxContext(
            node,
            self.directory,
            blocked=self.blocked,
            is_partner=self.is_partner,
            on_following_accepted=self.on_following_accepted,
        )
        self.handlers: Handlers = build_handlers(
            self.inbox_context, [BlockGuard(self.domain_blocked)]
        )
        self.processor = InboxProcessor(
            engine,
            self.handlers,
            DispatchSettings(
                lease=timedelta(seconds=fed.inbox_lease_seconds),
                keep=timedelta(days=fed.inbox_keep_days),
            ),
            worker_name(),
        )
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
                max_json_depth=settings.limits.max_json_depth,
                handled=lambda kind: kind in self.handlers.table,
                unverified_per_address=fed.unverified_per_address,
            ),
            on_stored=self.processor.wake,
        )
        self.groups = GroupActors(engine, node)
        self.delivery = DeliveryWorker(
            engine,
            self.fetcher,
            DeliverySettings(
                max_age=timedelta(days=fed.delivery_max_age_days),
                backoff_base=timedelta(seconds=fed.delivery_retry_base_seconds),
                concurrency=fed.delivery_concurrency,
                per_host=fed.delivery_per_host,
                lease=timedelta(seconds=fed.delivery_lease_seconds),
            ),
            worker_name(),
            signer_for=self.groups.signer_for,
        )
        self.publisher = Publisher(node, self.is_partner)
        self.background: list[Callable[[asyncio.Event], Awaitable[None]]] = [
            self.processor.run,
            self.delivery.run,
        ]
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def is_partner(self, host: str) -> bool:
        return host in self.partner_hosts

    def domain_blocked(self, host: str) -> bool:
        """Blocked by the configuration or by an admin (this process's cached copy)."""
        return covers(self.blocked_domains, host) or self.blocklist.covers(host)

    def blocked(self, host: str) -> bool:
        """Refused: a blocked domain, or anyone but a partner in allowlist mode."""
        if self.domain_blocked(host):
            return True
        return self.settings.mirror.partners_only and not self.is_partner(host)

    async def open(self) -> None:
        """Load the domain blocks and keep following changes made by other processes."""
        await self.blocklist.refresh(force=True)
        self.blocklist.start()

    def start(self) -> None:
        """Run the workers (inbox, deliveries, and whatever the application added)."""
        self.blocklist.start()
        self._stop.clear()
        self._tasks = [asyncio.create_task(run(self._stop)) for run in self.background]

    def running_workers(self) -> bool:
        """Whether this process was asked to run the workers."""
        return bool(self._tasks)

    def dead_workers(self) -> list[str]:
        """Workers of this process that ended although nobody stopped them."""
        if self._stop.is_set():
            return []
        return [task.get_coro().__qualname__ for task in self._tasks if task.done()]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        self._tasks = []
        await self.inbox.writer.close()  # rows already handed to it are stored, not dropped
        await self.blocklist.stop()
        await self.fetcher.aclose()
