"""The safe fetcher: every outgoing request to another server goes through here.

It refuses internal addresses at connect time (`netguard`), follows redirects itself (at most
five, no loops, each hop re-checked), enforces an overall deadline per fetch rather than only
per-socket timeouts (a server dripping one byte a second defeats read timeouts), caps the
body size while streaming, checks the content type and parses JSON with a depth limit.
"""

from __future__ import annotations

import asyncio
import email.utils
import http.cookiejar
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import anyio
import httpcore
import httpx

from federation import media_types, safejson
from federation.fetch_errors import (
    BadContentType,
    BadJson,
    BlockedAddress,
    ConnectionFailed,
    FetchError,
    HttpStatusError,
    Timeout,
    TooLarge,
    TooManyRedirects,
)
from federation.hosts import InvalidHost, host_of, normalize_host
from federation.netguard import AddressPolicy, GuardedBackend, Resolver, parse_ip

__all__ = [
    "AP_ACCEPT",
    "AP_CONTENT_TYPES",
    "JRD_ACCEPT",
    "JRD_CONTENT_TYPES",
    "BadContentType",
    "BadJson",
    "BlockedAddress",
    "ConnectionFailed",
    "FetchError",
    "FetchResult",
    "HttpStatusError",
    "SafeFetcher",
    "Timeout",
    "TooLarge",
    "TooManyRedirects",
    "parse_retry_after",
]

AP_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
# What `get_json` takes by default: `media_types.is_activitypub` (the ld+json profile counts),
# and plain application/json only from the hosts named in `plain_json_hosts`.
AP_CONTENT_TYPES = frozenset({"application/activity+json", "application/ld+json"})
JRD_ACCEPT = "application/jrd+json, application/json"
JRD_CONTENT_TYPES = frozenset({"application/jrd+json", "application/json"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_USER_AGENT = "commons-registry (federation)"


@dataclass(frozen=True)
class FetchResult:
    url_final: str
    status: int
    headers: dict[str, str] = field(repr=False)
    data: Any = field(repr=False)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


# What the layers under httpx raise unwrapped when a peer breaks a connection at a bad moment:
# anyio's stream errors, OSError from the socket, and (anyio under uvloop, a peer resetting
# right after accepting) AttributeError on a transport already torn down.
TRANSPORT_FAILURES = (
    OSError,
    AttributeError,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
    httpcore.NetworkError,
    httpcore.ProtocolError,
)


def _unwrapped(url: object, exc: BaseException) -> str:
    return f"{url}: the connection broke ({type(exc).__name__}: {str(exc)[:200]})"


def _host_or_none(url: str) -> str | None:
    try:
        return host_of(url)
    except InvalidHost:
        return None


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool rebuilt on the guarded network backend."""

    def __init__(self, backend: GuardedBackend, verify: Any, limits: httpx.Limits) -> None:
        super().__init__(verify=verify, trust_env=False, limits=limits)
        if not isinstance(self._pool, httpcore.AsyncConnectionPool):  # guards an httpx upgrade
            raise RuntimeError("httpx transport internals changed; the SSRF guard cannot attach")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class SafeFetcher:
    """Fetches JSON documents from, and POSTs deliveries to, other servers, safely.

    `signer` (an `httpx.Auth`, e.g. the node actor's `CavageAuth`) signs every request unless
    a call passes `sign=False`. `allow_private`, `allowed_hosts` and `allow_http` loosen the
    guard for tests and development only; `allowed_networks` lets a deployment reach named
    internal networks (and nothing else private). `verify` is a CA bundle path or an
    `ssl.SSLContext`. `resolver` and `network_backend` are seams for tests.
    """

    def __init__(
        self,
        *,
        signer: httpx.Auth | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        allow_private: bool = False,
        allowed_hosts: Iterable[str] = (),
        allowed_networks: Iterable[str] = (),
        allow_http: bool = False,
        plain_json_hosts: Iterable[str] = (),
        deadline: float = 10.0,
        max_bytes: int = 1024 * 1024,
        max_redirects: int = 5,
        max_json_depth: int = safejson.MAX_DEPTH,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_connections: int = 100,
        verify: Any = True,
        resolver: Resolver | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.signer = signer
        self.policy = AddressPolicy.create(
            allow_private=allow_private,
            allowed_hosts=allowed_hosts,
            allowed_networks=allowed_networks,
        )
        self.allow_http = allow_http
        self.plain_json_hosts = frozenset(normalize_host(host) for host in plain_json_hosts)
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.max_json_depth = max_json_depth
        backend = GuardedBackend(self.policy, resolver=resolver, inner=network_backend)
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=20)
        self._client = httpx.AsyncClient(
            transport=_GuardedTransport(backend, verify, limits),
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            headers={"User-Agent": user_agent},
            # Never keep cookies: they would grow without bound and leak between fetches.
            cookies=http.cookiejar.CookieJar(
                http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
            ),
            follow_redirects=False,
            trust_env=False,
        )

    async def __aenter__(self) -> SafeFetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def check_url(self, url: str) -> None:
        """Refuse, before any I/O, URLs we would never fetch (scheme, literal internal IPs)."""
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            httpx.URL(url)  # stricter than urlsplit (control characters): fail here, not later
        except (ValueError, httpx.InvalidURL) as exc:
            raise BlockedAddress(f"not a valid URL: {url[:300]!r}") from exc
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise BlockedAddress(f"only absolute https URLs are fetched, not {url!r}")
        if parts.scheme == "http" and not self.allow_http:
            raise BlockedAddress(f"plain http is not allowed: {url}")
        if parts.username is not None or parts.password is not None:
            raise BlockedAddress(f"URLs with credentials are not fetched: {url}")
        ip = parse_ip(parts.hostname)
        if ip is not None and not self.policy.exempt(parts.hostname, port):
            self.policy.check_address(parts.hostname, parts.hostname)

    async def get_json(
        self,
        url: str,
        *,
        accept: str = AP_ACCEPT,
        content_types: Iterable[str] | None = None,
        sign: bool = True,
    ) -> FetchResult:
        """GET a JSON document (ActivityPub by default), following up to `max_redirects`.

        `content_types` None means an ActivityPub document (`media_types.is_activitypub`)."""
        fetched = await self.get_json_text(
            url, accept=accept, content_types=content_types, sign=sign
        )
        return replace(fetched, data=self.parse_json(fetched.url_final, fetched.data))

    async def get_json_text(
        self,
        url: str,
        *,
        accept: str = AP_ACCEPT,
        content_types: Iterable[str] | None = None,
        sign: bool = True,
    ) -> FetchResult:
        """`get_json` without the parsing: `data` is the body as sent (its size, status and
        content type checked), for a caller that parses it elsewhere (`parse_json`)."""
        allowed = None if content_types is None else frozenset(content_types)
        try:
            async with asyncio.timeout(self.deadline):
                return await self._get_body(url, accept, allowed, sign)
        except TimeoutError as exc:
            raise Timeout(f"fetching {url} took longer than {self.deadline:g} s") from exc

    def parse_json(self, url: str, body: bytes) -> Any:
        """A body from `url` parsed as `get_json` parses it (BadJson when it cannot be)."""
        try:
            return safejson.loads(body, max_depth=self.max_json_depth)
        except safejson.JsonError as exc:
            raise BadJson(f"{url}: {exc}") from exc

    async def get_jrd(self, url: str, *, sign: bool = False) -> FetchResult:
        """GET a WebFinger / NodeInfo-index JRD (unsigned by default, as everyone serves it)."""
        return await self.get_json(
            url, accept=JRD_ACCEPT, content_types=JRD_CONTENT_TYPES, sign=sign
        )

    async def _get_body(
        self, url: str, accept: str, allowed: frozenset[str] | None, sign: bool
    ) -> FetchResult:
        seen = {url}
        for _hop in range(self.max_redirects + 1):
            self.check_url(url)
            request = self._client.build_request("GET", url, headers={"Accept": accept})
            response = await self._send(request, sign)
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECT_STATUSES and location:
                    url = urljoin(str(response.url), location.strip())
                    if url in seen:
                        raise TooManyRedirects(f"redirect loop back to {url}")
                    seen.add(url)
                    continue
                self._raise_for_status(response)
                self._check_content_type(url, response.headers.get("content-type"), allowed)
                body = await self._read_capped(response)
            finally:
                await response.aclose()
            headers = dict(response.headers)
            return FetchResult(str(response.url), response.status_code, headers, body)
        raise TooManyRedirects(f"more than {self.max_redirects} redirects, last to {url}")

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        sign: bool = True,
        auth: httpx.Auth | None = None,
    ) -> int:
        """POST a delivery; returns the status (< 400). Redirects are not followed.

        Raises `HttpStatusError` (with `retry_after` on 429/503) for error statuses, and the
        other `FetchError`s as for GETs.
        """
        self.check_url(url)
        merged = {"Content-Type": "application/activity+json", **(headers or {})}
        request = self._client.build_request("POST", url, content=body, headers=merged)
        try:
            async with asyncio.timeout(self.deadline):
                response = await self._send(request, sign, auth)
                try:
                    self._raise_for_status(response)
                    await self._read_capped(response)  # drain so the connection can be reused
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise Timeout(f"delivering to {url} took longer than {self.deadline:g} s") from exc
        return response.status_code

    async def _send(
        self, request: httpx.Request, sign: bool, auth: httpx.Auth | None = None
    ) -> httpx.Response:
        signer = auth or (self.signer if sign else None)
        try:
            if signer is None:
                return await self._client.send(request, stream=True)
            return await self._client.send(request, stream=True, auth=signer)
        except httpx.TimeoutException as exc:
            raise Timeout(f"{request.url}: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise ConnectionFailed(f"{request.url}: {exc or type(exc).__name__}") from exc
        except FetchError:
            raise
        except TRANSPORT_FAILURES as exc:
            raise ConnectionFailed(_unwrapped(request.url, exc)) from exc

    def _check_content_type(
        self, url: str, declared: str | None, allowed: frozenset[str] | None
    ) -> None:
        media = _media_type(declared)
        if allowed is not None:
            if media in allowed:
                return
            expected = ", ".join(sorted(allowed))
        else:
            if media_types.is_activitypub(declared):
                return
            if media == "application/json" and _host_or_none(url) in self.plain_json_hosts:
                return  # a configured compatibility rule for this host
            expected = f"{media_types.ACTIVITY_JSON} or {media_types.LD_JSON} with the AS profile"
        raise BadContentType(f"{url} answered {declared or 'no content type'}, expected {expected}")

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400 and status not in REDIRECT_STATUSES:
            return
        retry_after = None
        if status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise HttpStatusError(status, retry_after, str(response.url))

    async def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise TooLarge(f"{response.url} declares {declared} bytes; the cap is {self.max_bytes}")
        chunks, size = [], 0
        try:
            async for chunk in response.aiter_bytes():  # decoded: caps gzip bombs too
                size += len(chunk)
                if size > self.max_bytes:
                    raise TooLarge(f"{response.url} sent more than {self.max_bytes} bytes")
                chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise Timeout(f"{response.url}: reading the body timed out") from exc
        except httpx.HTTPError as exc:
            raise ConnectionFailed(f"{response.url}: {exc or type(exc).__name__}") from exc
        except FetchError:
            raise
        except TRANSPORT_FAILURES as exc:
            raise ConnectionFailed(_unwrapped(response.url, exc)) from exc
        return b"".join(chunks)
