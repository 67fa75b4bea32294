"""Prometheus metrics at /metrics: request latency by route, and the node's queues.

Request latency is counted in each web process (with `--workers N` a scrape sees the process
that answered it; scrape each process, or read the proxy's own latency). Everything else is
read from the database at scrape time, so any process gives the whole node's picture: inbox
queue depth and age, deliveries per host and state, the circuit breaker per host, sync lag per
partner, assets by origin. Off unless `monitoring.metrics`; with `monitoring.metrics_token` a
bearer token is required.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from federation.tables import deliveries, delivery_hosts, inbox_items
from registry.core.errors import NotFound, Unauthorized
from registry.core.schema import assets, partners
from vocab.times import as_utc

TOP_HOSTS = 100  # per-host series kept, busiest first: bounded cardinality


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return as_utc(value)


class DatabaseSnapshot(Collector):
    """Gauges read from the database just before each exposition."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterable[Metric]:
        return list(self.families)

    async def refresh(self, engine: AsyncEngine) -> None:
        now = datetime.now(UTC)
        async with engine.connect() as conn:
            inbox = (
                await conn.execute(
                    select(inbox_items.c.state, func.count(), func.min(inbox_items.c.received_at))
                    .where(inbox_items.c.state.in_(("pending", "failed")))
                    .group_by(inbox_items.c.state)
                )
            ).all()
            retrying = case((deliveries.c.attempts > 0, "retrying"), else_="pending")
            state = case((deliveries.c.state == "dead", "failed"), else_=retrying)
            outgoing = (
                await conn.execute(
                    select(deliveries.c.host, state, func.count())
                    .where(deliveries.c.state.in_(("pending", "dead")))
                    .group_by(deliveries.c.host, state)
                    .order_by(func.count().desc())
                    .limit(TOP_HOSTS * 3)
                )
            ).all()
            breakers = (
                await conn.execute(
                    select(
                        delivery_hosts.c.host,
                        delivery_hosts.c.open_until,
                        delivery_hosts.c.consecutive_failures,
                    )
                    .order_by(delivery_hosts.c.consecutive_failures.desc())
                    .limit(TOP_HOSTS)
                )
            ).all()
            syncs = (
                await conn.execute(
                    select(partners.c.host, partners.c.last_sync_at, partners.c.last_sync_error)
                )
            ).all()
            by_origin = (
                await conn.execute(
                    select(assets.c.origin, func.count())
                    .where(and_(assets.c.deleted_at.is_(None)))
                    .group_by(assets.c.origin)
                )
            ).all()

        depth = GaugeMetricFamily(
            "commons_inbox_queue_depth", "Incoming activities waiting or failed", labels=["state"]
        )
        age = GaugeMetricFamily(
            "commons_inbox_oldest_age_seconds",
            "Age of the oldest incoming activity in each state",
            labels=["state"],
        )
        counts = {"pending": (0, None), "failed": (0, None)}
        counts.update({row[0]: (row[1], _aware(row[2])) for row in inbox})
        for name, (count, oldest) in counts.items():
            depth.add_metric([name], count)
            age.add_metric([name], (now - oldest).total_seconds() if oldest else 0.0)
        out = GaugeMetricFamily(
            "commons_deliveries",
            "Outgoing deliveries by destination host and state (pending: not yet tried; "
            "retrying: failed at least once; failed: given up)",
            labels=["host", "state"],
        )
        for host, name, count in outgoing:
            out.add_metric([host, name], count)
        open_ = GaugeMetricFamily(
            "commons_breaker_open", "1 while deliveries to the host are paused", labels=["host"]
        )
        failures = GaugeMetricFamily(
            "commons_breaker_consecutive_failures",
            "Consecutive failed deliveries to the host",
            labels=["host"],
        )
        for host, open_until, consecutive in breakers:
            until = _aware(open_until)
            open_.add_metric([host], 1.0 if until is not None and until > now else 0.0)
            failures.add_metric([host], consecutive)
        lag = GaugeMetricFamily(
            "commons_sync_lag_seconds",
            "Seconds since the last completed sync with each partner (-1: never)",
            labels=["partner"],
        )
        sync_error = GaugeMetricFamily(
            "commons_sync_error", "1 when the partner's last sync failed", labels=["partner"]
        )
        for host, last, error in syncs:
            last = _aware(last)
            lag.add_metric([host], (now - last).total_seconds() if last else -1.0)
            sync_error.add_metric([host], 1.0 if error else 0.0)
        origin = GaugeMetricFamily(
            "commons_assets", "Assets held, by origin (local or a partner host)", labels=["origin"]
        )
        for name, count in by_origin:
            origin.add_metric([name], count)
        self.families = [depth, age, out, open_, failures, lag, sync_error, origin]


class Metrics:
    """One per application: its registry, the latency histogram, the database snapshot."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.latency = Histogram(
            "commons_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method",
            ["route", "method"],
            registry=self.registry,
        )
        self.snapshot = DatabaseSnapshot()
        self.registry.register(self.snapshot)


class RequestMetricsMiddleware:
    """Times each request and labels it with the route template (never the raw path, so a
    crawler cannot create a series per URL)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                route = scope.get("route")
                label = getattr(route, "path", None) or "unmatched"
                method = scope["method"] if scope["method"] in _METHODS else "OTHER"
                self.metrics.latency.labels(label, method).observe(time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, timed_send)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


async def metrics_endpoint(request: Request) -> Response:
    runtime = request.app.state.runtime
    config = runtime.settings.monitoring
    if not config.metrics:
        raise NotFound("metrics are off (monitoring.metrics)")
    if config.metrics_token:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {config.metrics_token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized("/metrics needs the bearer token of monitoring.metrics_token")
    metrics: Metrics = request.app.state.metrics
    await metrics.snapshot.refresh(runtime.engine)
    body = generate_latest(metrics.registry)  # no await since refresh: one consistent picture
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


routes = [Route("/metrics", metrics_endpoint, methods=["GET"], name="ops.metrics")]
