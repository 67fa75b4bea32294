"""The negative cache in front of the fetcher: a URL or host that just failed is not asked
again at once, and concurrent fetches of one URL share one request.

Without it, each activity that names an object or key on a silent host costs a full fetch
deadline, and a host that is down is asked once per activity. A permanent failure (404, 410,
the wrong content type) is remembered per URL for longer; a transient one (timeout, reset,
5xx) is remembered per host for a short while, so the host gets a rest and other hosts are
not affected. The rest is as long as the failure was costly: one that took the fetch deadline
(a silent host) rests the host for `host_seconds`; one answered at once (connection refused,
a quick 5xx) only for `QUICK_REST_SECONDS`, since asking again costs little and a node that
was merely restarting must not find its key unfetchable long after it is back (its Follows
would be refused with 401 until their retries ran out). Kept per process; each process
learns a dead host with one fetch of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable

from federation.fetch_errors import FetchError, RecentlyFailed, is_permanent
from federation.fetcher import FetchResult, SafeFetcher
from federation.hosts import InvalidHost, host_of

HOST_SECONDS = 60.0
URL_SECONDS = 600.0
MAX_ENTRIES = 10_000
QUICK_FAILURE_SECONDS = 1.0  # a failure learnt faster than this was cheap to learn
QUICK_REST_SECONDS = 2.0  # how long a host that failed cheaply is left alone


class FailureCache:
    def __init__(
        self,
        *,
        host_seconds: float = HOST_SECONDS,
        url_seconds: float = URL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host_seconds = host_seconds
        self.url_seconds = url_seconds
        self.clock = clock
        self._failed: OrderedDict[str, tuple[float, str]] = OrderedDict()  # key -> (until, why)
        self._inflight: dict[str, asyncio.Future[FetchResult]] = {}

    async def fetch(self, fetcher: SafeFetcher, url: str) -> FetchResult:
        """`fetcher.get_json(url)`, unless the URL or its host failed a moment ago."""
        for key in (url, _host_key(url)):
            remembered = self._remembered(key)
            if remembered is not None:
                raise RecentlyFailed(f"{url}: not asked again so soon ({remembered})")
        task = self._inflight.get(url)
        if task is None:
            task = asyncio.ensure_future(self._fetch(fetcher, url))
            self._inflight[url] = task
            task.add_done_callback(lambda done: self._finished(url, done))
        # shield: one waiter giving up (its request ended) does not cancel the others'.
        return await asyncio.shield(task)

    def forget(self, url: str) -> None:
        self._failed.pop(url, None)
        self._failed.pop(_host_key(url), None)

    async def _fetch(self, fetcher: SafeFetcher, url: str) -> FetchResult:
        started = self.clock()
        try:
            return await fetcher.get_json(url)
        except FetchError as exc:
            if is_permanent(exc):
                self._remember(url, self.url_seconds, exc.reason)
            else:
                self._remember(_host_key(url), self._host_rest(self.clock() - started), exc.reason)
            raise

    def _host_rest(self, cost: float) -> float:
        if cost < QUICK_FAILURE_SECONDS:
            return min(self.host_seconds, QUICK_REST_SECONDS)
        return self.host_seconds

    def _finished(self, url: str, task: asyncio.Future[FetchResult]) -> None:
        self._inflight.pop(url, None)
        if not task.cancelled():
            task.exception()  # retrieved here, so an unawaited failure is not logged as lost

    def _remembered(self, key: str) -> str | None:
        entry = self._failed.get(key)
        if entry is None:
            return None
        if entry[0] <= self.clock():
            del self._failed[key]
            return None
        return entry[1]

    def _remember(self, key: str, seconds: float, why: str) -> None:
        self._failed[key] = (self.clock() + seconds, why[:300])
        self._failed.move_to_end(key)
        while len(self._failed) > MAX_ENTRIES:
            self._failed.popitem(last=False)


def _host_key(url: str) -> str:
    try:
        return "host:" + host_of(url)
    except InvalidHost:
        return "host:?"
