"""Composition root: builds the ASGI application from the parts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware

from federation.rate_buckets import SharedBuckets
from registry.catalog import fulltext
from registry.config import Settings
from registry.core import db
from registry.core.migrate import check_schema
from registry.http.middleware.canonical import CanonicalHostMiddleware
from registry.http.middleware.hot_documents import HotDocumentsMiddleware
from registry.http.middleware.ratelimit import Limits, RateLimitMiddleware
from registry.http.middleware.text_guard import RefuseNulMiddleware
from registry.http.problems import HANDLERS
from registry.http.router import IndexedRouter
from registry.http.routes import all_routes
from registry.ops import collector, metrics
from registry.ops.requestlog import RequestIdMiddleware
from registry.people import members
from registry.runtime import Runtime


def create_app(
    settings: Settings,
    engine: AsyncEngine | None = None,
    *,
    check: bool = True,
    server_process: bool = False,
) -> Starlette:
    """The node's web application. It owns the engine unless one is handed in;
    `server_process`: it is the only application of a server process, whose garbage
    collector is set for a long run once it has started (registry.ops.collector)."""
    owns_engine = engine is None
    engine = engine or db.create_engine(
        settings.database_url, pool_size=settings.database.pool_size
    )
    runtime = Runtime.build(settings, engine)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if check:
            await check_schema(engine)
        await db.ensure_statistics(engine)  # a restored or copied SQLite file may lack them
        members.warm()  # before the first sign-in, which would otherwise wait for it
        fulltext.warm()  # and the first search
        await runtime.start_federation(run_workers=settings.federation.workers_in_server)
        runtime.map_summaries.rebuild(engine)  # counted while the node starts
        if server_process:
            collector.settle_after_start()
        try:
            yield
        finally:
            await runtime.map_summaries.close()
            await runtime.stop_federation()
            if owns_engine:
                await engine.dispose()

    # Partners are known once federation has started (some are added at run time).
    limits = Limits(
        settings.limits,
        lambda host: runtime.federation is not None and runtime.federation.is_partner(host),
        shared=None if runtime.engine.dialect.name == "sqlite" else SharedBuckets(runtime.engine),
    )
    node_metrics = metrics.Metrics()
    json_logs = settings.server.log_format == "json"
    app = Starlette(
        exception_handlers=HANDLERS,
        lifespan=lifespan,
        middleware=[
            # Outermost first: cached documents leave at once (they need nothing below);
            # then the public origin is fixed before anything reads the URL.
            Middleware(
                HotDocumentsMiddleware,
                runtime=runtime,
                limits=limits,
                metrics=node_metrics,
                access_log=json_logs,
            ),
            Middleware(CanonicalHostMiddleware, base_url=settings.base_url),
            Middleware(RequestIdMiddleware, access_log=json_logs),
            Middleware(metrics.RequestMetricsMiddleware, metrics=node_metrics),
            Middleware(RateLimitMiddleware, limits=limits),
            Middleware(RefuseNulMiddleware),
        ],
    )
    app.router = IndexedRouter(all_routes(), lifespan=lifespan)
    app.state.runtime = runtime
    app.state.limits = limits
    app.state.metrics = node_metrics
    return app


def app_from_environment() -> Starlette:
    """Factory for `uvicorn --factory` and worker processes: settings from file and env."""
    from registry.config import load_settings
    from registry.ops import logs

    settings = load_settings()
    logs.configure(settings.server.log_level, settings.server.log_format)
    return create_app(settings, server_process=True)
