"""Composition root: builds the ASGI application from the parts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from federation.rate_buckets import SharedBuckets
from registry import db
from registry.config import Settings
from registry.http import (
    actor_collections,
    alternates,
    api_accounts,
    api_assets,
    api_federation,
    api_map,
    api_moderation,
    api_places,
    federation_routes,
    group_routes,
    ogc_features,
    open_data,
    pages,
    partner_feeds,
    web_admin,
    web_member,
    web_search,
    web_session,
)
from registry.http.canonical import CanonicalHostMiddleware
from registry.http.openapi import openapi
from registry.http.problems import HANDLERS
from registry.http.ratelimit import Limits, RateLimitMiddleware
from registry.http.text_guard import RefuseNulMiddleware
from registry.migrate import check_schema
from registry.ops import health, metrics
from registry.ops.requestlog import RequestIdMiddleware
from registry.services import Services

STATIC = Path(__file__).parent / "web" / "static"


def create_app(
    settings: Settings, engine: AsyncEngine | None = None, *, check: bool = True
) -> Starlette:
    """The node's web application. It owns the engine unless one is handed in."""
    owns_engine = engine is None
    engine = engine or db.create_engine(
        settings.database_url, pool_size=settings.database.pool_size
    )
    services = Services.build(settings, engine)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if check:
            await check_schema(engine)
        if db.is_sqlite(engine):
            await db.analyze(engine)  # cheap, and a restored or copied file may lack stats
        await services.start_federation(run_workers=settings.federation.workers_in_server)
        try:
            yield
        finally:
            await services.stop_federation()
            if owns_engine:
                await engine.dispose()

    routes = [
        *open_data.routes,
        *ogc_features.routes,
        *api_assets.routes,
        *api_map.routes,
        *api_places.routes,
        *api_accounts.routes,
        *api_federation.routes,
        *api_moderation.routes,
        Route("/api/openapi.json", openapi, methods=["GET"]),
        *alternates.routes,
        *pages.routes,
        *web_search.routes,
        *web_session.routes,
        *web_member.routes,
        *web_admin.routes,
        *federation_routes.routes,
        *group_routes.routes,
        *actor_collections.routes,
        *partner_feeds.routes,
        *health.routes,
        *metrics.routes,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    # Partners are known once federation has started (some are added at run time).
    limits = Limits(
        settings.limits,
        lambda host: services.federation is not None and services.federation.is_partner(host),
        shared=None if services.engine.dialect.name == "sqlite" else SharedBuckets(services.engine),
    )
    node_metrics = metrics.Metrics()
    json_logs = settings.server.log_format == "json"
    app = Starlette(
        routes=routes,
        exception_handlers=HANDLERS,
        lifespan=lifespan,
        middleware=[
            # Outermost first: the public origin is fixed before anything reads the URL.
            Middleware(CanonicalHostMiddleware, base_url=settings.base_url),
            Middleware(RequestIdMiddleware, access_log=json_logs),
            Middleware(metrics.RequestMetricsMiddleware, metrics=node_metrics),
            Middleware(RateLimitMiddleware, limits=limits),
            Middleware(RefuseNulMiddleware),
        ],
    )
    app.state.services = services
    app.state.limits = limits
    app.state.metrics = node_metrics
    return app


def app_from_environment() -> Starlette:
    """Factory for `uvicorn --factory` and worker processes: settings from file and env."""
    from registry import logs
    from registry.config import load_settings

    settings = load_settings()
    logs.configure(settings.server.log_level, settings.server.log_format)
    return create_app(settings)
