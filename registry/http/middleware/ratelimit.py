"""Rate limits: token buckets per remote host, per client address and per bearer token.

Buckets live in this process's memory (one dict, least recently used forgotten first), so
with N web workers a client may get up to N times the configured rate; that is the price of
needing no shared store. The inboxes' buckets are the exception on PostgreSQL: they live in
the database (`federation.rate_buckets`), shared by every web worker, since inbox POSTs are
what other servers send in bulk. What is counted:

- the inboxes (`/inbox`, `/actor/inbox`): per host of the signing key the request claims.
  The claim is only checked later, so a request that is then refused (its signature fails,
  its body is unusable) gives its token back to that host and is charged to its client
  address instead: nobody can spend a partner's allowance by forging its key id. Partners
  get a far larger allowance, because throttling them only delays their own deliveries.
- GETs and HEADs without a bearer token: per client address; one signed with a partner's
  key id gets the partner allowance (in a bucket of its own, per address).
- writes under `/api/`: per bearer token (a hash of it), else per client address.

Over the limit the answer is 429 with `Retry-After` (whole seconds) and a problem document.
The client address is the ASGI client, which uvicorn's `--proxy-headers` sets from
`X-Forwarded-For` when the request comes from a trusted proxy.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from federation.hosts import InvalidHost, host_of
from federation.rate_buckets import SharedBuckets
from federation.token_bucket import refilled, take, wait_for_token
from registry.config import LimitsSection
from registry.core.errors import TooManyRequests
from registry.http.problems import on_problem

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_KEY_ID = re.compile(r'keyid\s*=\s*"([^"]{1,2048})"', re.IGNORECASE)


@dataclass(frozen=True)
class Allowance:
    per_minute: int
    burst: int

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


class RateLimiter:
    """Token buckets by key. `take` spends one token or says how long to wait for one."""

    def __init__(self, max_keys: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()

    def _level(self, key: Hashable, allowance: Allowance) -> float:
        now = self.clock()
        tokens, then = self._buckets.get(key, (float(allowance.burst), now))
        return refilled(tokens, now - then, allowance.per_second, allowance.burst)

    def _store(self, key: Hashable, tokens: float) -> None:
        self._buckets[key] = (tokens, self.clock())
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)

    def take(self, key: Hashable, allowance: Allowance) -> float:
        """0 when a token was spent, else the seconds until one is available."""
        level, wait = take(self._level(key, allowance), allowance.per_second)
        self._store(key, level)
        return wait

    def give_back(self, key: Hashable, allowance: Allowance) -> None:
        level = self._level(key, allowance) + 1.0
        self._store(key, refilled(level, 0.0, allowance.per_second, allowance.burst))

    def wait(self, key: Hashable, allowance: Allowance) -> float:
        """Seconds until the bucket has a token, without spending one."""
        return wait_for_token(self._level(key, allowance), allowance.per_second)


def too_many(wait: float, what: str) -> TooManyRequests:
    seconds = max(1, math.ceil(wait))
    return TooManyRequests(
        f"too many {what}; try again in {seconds} s",
        headers={"Retry-After": str(seconds)},
        retry_after=seconds,
    )


def claimed_key_host(headers: Mapping[str, str]) -> str | None:
    """The host of the key id a signed request names (not yet verified), or None."""
    for name in ("signature-input", "signature"):
        match = _KEY_ID.search(headers.get(name) or "")
        if match:
            try:
                return host_of(match.group(1))
            except InvalidHost:
                return None
    return None


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class Limits:
    """The node's limiter and allowances, built from `[limits]`."""

    def __init__(
        self,
        config: LimitsSection,
        is_partner: Callable[[str], bool],
        clock: Callable[[], float] = time.monotonic,
        shared: SharedBuckets | None = None,
    ) -> None:
        self.enabled = config.rate_limits
        # The inbox's buckets in the database when several processes serve one node
        # (PostgreSQL); the other buckets stay per process (see the module's note).
        self.shared = shared
        self.is_partner = is_partner
        self.limiter = RateLimiter(config.tracked_clients, clock)
        self.inbox = Allowance(config.inbox_per_minute, config.inbox_burst)
        self.partner = Allowance(config.partner_per_minute, config.partner_burst)
        self.unverified = Allowance(config.unverified_per_minute, config.unverified_burst)
        self.get = Allowance(config.get_per_minute, config.get_burst)
        self.api_writes = Allowance(config.api_writes_per_minute, config.api_writes_burst)

    async def _take(self, key: tuple, allowance: Allowance, *, spend: bool = True) -> float:
        if self.shared is None:
            if spend:
                return self.limiter.take(key, allowance)
            return self.limiter.wait(key, allowance)
        name = ":".join(str(part) for part in key)
        return await self.shared.take(name, allowance.per_second, allowance.burst, spend=spend)

    async def _give_back(self, key: tuple, allowance: Allowance) -> None:
        if self.shared is None:
            self.limiter.give_back(key, allowance)
        else:
            name = ":".join(str(part) for part in key)
            await self.shared.give_back(name, allowance.per_second, allowance.burst)

    async def inbox_gate(self, request: Request) -> InboxTicket | None:
        """Admit an inbox POST or raise 429. Settle the ticket once the signature is judged."""
        if not self.enabled:
            return None
        address = ("unverified", client_address(request.scope))
        wait = await self._take(address, self.unverified, spend=False)
        if wait:
            raise too_many(wait, "unverifiable activities from this address")
        host = claimed_key_host(request.headers)
        if host is None:  # unsigned: it will fail verification; charge the address now
            wait = await self._take(address, self.unverified)
            if wait:
                raise too_many(wait, "unverifiable activities from this address")
            return None
        allowance = self.partner if self.is_partner(host) else self.inbox
        wait = await self._take(("inbox", host), allowance)
        if wait:
            raise too_many(wait, f"activities from {host}")
        return InboxTicket(self, ("inbox", host), allowance, address)

    def check_request(self, scope: Scope, headers: Mapping[str, str]) -> TooManyRequests | None:
        """The 429 for a GET or an API write over its allowance, else None."""
        if not self.enabled:
            return None
        method, path = scope["method"], scope["path"]
        token = _bearer(headers.get("authorization"))
        if method in ("GET", "HEAD") and token is None:
            host = claimed_key_host(headers)
            partner = host is not None and self.is_partner(host)
            allowance = self.partner if partner else self.get
            key = ("get", client_address(scope), partner)
            wait = self.limiter.take(key, allowance)
            return too_many(wait, "requests from this address") if wait else None
        if method in WRITES and path.startswith("/api/"):
            key = (
                ("token", hashlib.sha256(token.encode()).hexdigest()[:32])
                if token is not None
                else ("api-address", client_address(scope))
            )
            wait = self.limiter.take(key, self.api_writes)
            return too_many(wait, "API writes with this token") if wait else None
        return None


@dataclass
class InboxTicket:
    limits: Limits
    key: tuple
    allowance: Allowance
    address: tuple

    async def refused(self) -> None:
        """Refused (bad signature, bad body): the token goes back to the host whose key id
        the request claimed, and the client address pays instead."""
        await self.limits._give_back(self.key, self.allowance)  # type: ignore[arg-type]
        await self.limits._take(self.address, self.limits.unverified)  # type: ignore[arg-type]


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


COUNTED = "commons.rate_counted"  # scope key: the limiter's verdict, when already taken


class RateLimitMiddleware:
    """Counts GETs and API writes before any work is done for them (inboxes count later,
    in their endpoint, where the signature's verdict is known)."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.limits.enabled  # nothing to count: no per-request cost at all
            or scope["path"].startswith("/static/")
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if COUNTED in scope:  # the hot path counted it already (hot_documents.py)
            problem = scope[COUNTED]
        else:
            problem = self.limits.check_request(scope, request.headers)
        if problem is None:
            await self.app(scope, receive, send)
            return
        response = await on_problem(request, problem)
        await response(scope, receive, send)
