"""Why a fetch (or a delivery) failed. Every failure of `SafeFetcher` is one of these."""

from __future__ import annotations


class FetchError(Exception):
    """Base class; `reason` is a sentence meant for logs and admins."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BlockedAddress(FetchError):
    """The URL, or an address its host resolves to, is not allowed (SSRF guard)."""


class TooLarge(FetchError):
    """The response body is larger than the cap."""


class Timeout(FetchError):
    """The overall deadline (or a connect/read timeout) passed."""


class BadContentType(FetchError):
    """The response is not the kind of document we asked for."""


class BadJson(FetchError):
    """The body is not JSON, or nests too deeply."""


class TooManyRedirects(FetchError):
    """More redirects than allowed, or a redirect loop."""


class ConnectionFailed(FetchError):
    """The server could not be reached or broke the protocol (DNS, TCP, TLS, HTTP)."""


class HttpStatusError(FetchError):
    """The server answered with an error status; `retry_after` is in seconds when it said so."""

    def __init__(self, status: int, retry_after: float | None = None, url: str = "") -> None:
        wait = f"; retry after {retry_after:.0f} s" if retry_after is not None else ""
        where = f" from {url}" if url else ""
        super().__init__(f"HTTP {status}{where}{wait}")
        self.status = status
        self.retry_after = retry_after
        self.url = url


class RecentlyFailed(FetchError):
    """Not asked: the same URL (or its host) failed a moment ago (the negative cache)."""


def is_permanent(exc: FetchError) -> bool:
    """Whether asking again would get the same answer: refused by our guard, the wrong kind
    of document, or gone (404, 410). Timeouts, resets and 5xx are worth a later retry."""
    if isinstance(exc, HttpStatusError):
        return exc.status in (400, 401, 403, 404, 405, 406, 410, 414, 415, 451)
    if isinstance(exc, RecentlyFailed):
        return False
    return isinstance(exc, BlockedAddress | TooLarge | BadContentType | BadJson | TooManyRedirects)
