"""The node's runtime, built once by the composition root and shared by every entry point."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.catalog.assets import AssetService
from registry.catalog.document_cache import DocumentCache
from registry.catalog.facets import FacetCache
from registry.catalog.map_layer import MapCache
from registry.catalog.map_summary import MapSummaries
from registry.catalog.places import Geocoder
from registry.catalog.suggest import CatalogWords
from registry.catalog.version import read_catalog_version
from registry.config import Settings
from registry.core.node_keys import load_node_keys, node_created
from registry.fediverse.federation import Federation, worker_name
from registry.fediverse.identity import NodeIdentity
from registry.ops.heartbeat import Heartbeat
from registry.people import accounts

TOKEN_TOUCH_INTERVAL = 60.0  # seconds between last_used_at writes for one token


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    assets: AssetService
    facet_cache: FacetCache = field(default_factory=FacetCache)
    documents: DocumentCache = field(default_factory=DocumentCache)  # GET /assets/{id}
    map_cache: MapCache = field(default_factory=MapCache)  # GET /api/map
    map_summaries: MapSummaries = field(default_factory=lambda: MapSummaries(0))  # its clusters
    catalog_words: CatalogWords = field(default_factory=CatalogWords)  # "did you mean"
    geocoder: Geocoder | None = None  # places by name beyond the catalog's towns
    federation: Federation | None = None
    _touched: dict[int, float] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, engine: AsyncEngine) -> Runtime:
        runtime = cls(
            settings=settings,
            engine=engine,
            assets=AssetService(engine, settings),
            documents=DocumentCache(settings.server.document_cache_seconds),
            map_summaries=MapSummaries(settings.search.map_summary_seconds),
            geocoder=(
                Geocoder(settings.web.geocoder_url, settings.web.geocoder_timeout)
                if settings.web.geocoder_url
                else None
            ),
        )
        runtime.assets.committed.append(runtime.documents.clear)
        return runtime

    async def cached_document(self, uid: str) -> bytes | None:
        """An asset's JSON-LD bytes from the document cache, after the cache has checked the
        catalog version (at most once per its ttl)."""
        await self.documents.revalidate(lambda: read_catalog_version(self.engine))
        return self.documents.get(uid)

    async def start_federation(self, *, run_workers: bool) -> Federation:
        """Load the node's keys, wire publishing into the asset service, start the workers."""
        if self.federation is None:
            from registry.fediverse import partners, sync

            node = NodeIdentity(
                self.settings,
                await load_node_keys(self.engine),
                created=await node_created(self.engine),
            )
            federation = Federation(self.settings, self.engine, node)
            federation.partner_hosts |= await partners.hosts(self.engine)
            await federation.open()  # domain blocks, kept fresh across processes
            federation.on_following_accepted.append(partners.request_sync)
            federation.background.append(sync.SyncWorker(federation, worker_name()).run)
            federation.background.append(Heartbeat(self.engine, worker_name()).run)
            self.assets.listeners.append(federation.publisher.on_change)
            self.assets.committed.append(federation.delivery.wake)
            self.federation = federation
        if run_workers:
            self.federation.start()
        return self.federation

    async def stop_federation(self) -> None:
        if self.federation is not None:
            await self.federation.stop()

    async def authenticate(self, token: str) -> accounts.Principal:
        principal = await accounts.authenticate(self.engine, token)
        # Record use, but not on every request: a write per call would halve API throughput.
        if principal.token_id is not None:
            last = self._touched.get(principal.token_id, 0.0)
            if time.monotonic() - last > TOKEN_TOUCH_INTERVAL:
                self._touched[principal.token_id] = time.monotonic()
                await accounts.touch_token(self.engine, principal.token_id)
        return principal
