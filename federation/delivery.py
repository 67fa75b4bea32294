"""The delivery worker: sends what the outbox owes, durably, politely, at least once.

Rows of `deliveries` are claimed with a lease (`federation.delivery_queue`). A send starts
only while enough lease remains for it to finish, and another worker takes a row over only
half a lease after the lease ends (time for the batched result to be written), so two
workers never send one row at the same time, even on a busy machine; a row is done only
after a 2xx; a worker killed mid-send leaves its rows to expire, and another claim takes
them over.

Sends run concurrently, bounded overall and per host. Each host has a circuit breaker: after
`breaker_threshold` consecutive failures no request goes to it for `breaker_cooldown`, its due
deliveries move to when the circuit closes, and then one probe goes first. Results are
written in batches: a round (or whatever finished since the last write) in one transaction,
together with the next claim when both are due.

What a result means:
- 2xx: done.
- 408, 429, 5xx, 3xx (deliveries do not follow redirects), timeouts, connection failures:
  retry after `backoff_base * 2**(attempts-1)`, ±20 % jitter, at most `backoff_cap`. A
  `Retry-After` is honoured as a lower bound, itself capped at `backoff_cap`.
- 401: retried until `unauthorized_attempts` attempts. It is usually transient on our side
  (the receiver could not fetch our key yet, or caches a rotated one); Mastodon retries it too.
- Any other 4xx (403 refused or blocked, 404/410 gone, 400/413/422 will not take this body):
  dead at once, since the same bytes cannot succeed later. A refused address: dead.
- A failure more than `max_age` after the delivery was queued: dead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from federation import delivery_queue as queue
from federation.backoff import backoff
from federation.delivery_queue import Job, Outcome
from federation.fetch_errors import BlockedAddress, FetchError, HttpStatusError
from federation.fetcher import SafeFetcher
from federation.transactions import read, write

__all__ = ["DeliverySettings", "DeliveryWorker", "Judgement", "backoff_delay", "judge_error"]

log = logging.getLogger("federation.delivery")


@dataclass(frozen=True)
class DeliverySettings:
    max_age: timedelta = timedelta(days=3)  # a delivery still failing after this is dead
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_cap: timedelta = timedelta(hours=1)
    jitter: float = 0.2  # ± fraction: retries after one outage do not arrive together
    concurrency: int = 16  # sends in flight in one worker
    per_host: int = 4  # sends in flight to one host
    batch: int = 100  # deliveries claimed at once
    lease: timedelta = timedelta(seconds=60)  # at least twice the fetcher's deadline
    breaker_threshold: int = 10  # consecutive failures of a host that open its circuit
    breaker_cooldown: timedelta = timedelta(seconds=60)
    unauthorized_attempts: int = 3  # attempts a 401 gets before the delivery is dead
    poll_interval: timedelta = timedelta(seconds=1)
    flush_interval: timedelta = timedelta(milliseconds=100)  # longest a result waits unwritten


@dataclass(frozen=True)
class Judgement:
    verdict: Literal["done", "retry", "dead"]
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds, as the receiver asked


def backoff_delay(
    settings: DeliverySettings, attempts: int, retry_after: float | None = None
) -> timedelta:
    """The wait after `attempts` failed attempts (1 after the first failure)."""
    return backoff(
        attempts,
        base=settings.backoff_base,
        cap=settings.backoff_cap,
        jitter=settings.jitter,
        at_least=retry_after,
    )


def judge_error(error: Exception, attempts: int, settings: DeliverySettings) -> Judgement:
    """A failed attempt; `attempts` counts this one."""
    if isinstance(error, HttpStatusError):
        status, reason = error.status, error.reason
        if status in (408, 429) or status >= 500 or status < 400:
            return Judgement("retry", status, reason, error.retry_after)
        if status == 401 and attempts < settings.unauthorized_attempts:
            return Judgement("retry", status, reason)
        return Judgement("dead", status, reason)
    if isinstance(error, BlockedAddress):
        return Judgement("dead", None, error.reason)
    if isinstance(error, FetchError):
        return Judgement("retry", None, error.reason)
    return Judgement("retry", None, f"{type(error).__name__}: {error}")


class _Gate:
    """This worker's live view of one host: its send slots and its breaker."""

    def __init__(self, per_host: int, failures: int) -> None:
        self.slots = asyncio.Semaphore(per_host)
        self.failures = failures
        self.open_until: datetime | None = None
        self.probe: asyncio.Event | None = None  # set while a half-open probe is in flight
        self.users = 0

    def note(self, outcome: Outcome, settings: DeliverySettings) -> None:
        if outcome.kind == "done":
            self.failures, self.open_until = 0, None
            return
        self.failures += 1
        if self.failures >= settings.breaker_threshold:
            self.open_until = outcome.at + settings.breaker_cooldown


class DeliveryWorker:
    """Claims due deliveries, sends them signed, records the results.

    `fetcher` signs with its signer (the node actor's `CavageAuth`) unless `auth` is given,
    or `signer_for(body)` names the key of the activity's own actor.
    `clock` is a seam for tests. Call `wake()` after publishing for an immediate send.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        fetcher: SafeFetcher,
        settings: DeliverySettings | None = None,
        worker_id: str = "delivery",
        *,
        auth: httpx.Auth | None = None,
        signer_for: Callable[[bytes], Awaitable[httpx.Auth | None]] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.fetcher = fetcher
        self.settings = settings or DeliverySettings()
        self.worker_id = worker_id
        self._auth = auth
        # Another local actor's key for the activities it sent (None: the default signer).
        self._signer_for = signer_for
        self._clock = clock or (lambda: datetime.now(UTC))
        if auth is None and fetcher.signer is None:
            raise ValueError("deliveries must be signed: give the fetcher a signer, or auth")
        # A send may take the fetcher's whole deadline; it must end inside the lease.
        self._margin = timedelta(seconds=fetcher.deadline + 0.1)
        if self.settings.lease < 2 * self._margin:
            raise ValueError("the lease must be at least twice the fetcher's deadline")
        self._slots = asyncio.Semaphore(self.settings.concurrency)
        self._gates: dict[str, _Gate] = {}
        self._signal = asyncio.Event()  # something to look at: a result, wake(), stop
        self._woken = False
        self._draining = False
        self._high_water = max(self.settings.batch, self.settings.concurrency)
        self._breaker = queue.Breaker(
            self.settings.breaker_threshold, self.settings.breaker_cooldown, self.settings.max_age
        )

    def wake(self) -> None:
        """New deliveries were committed: claim now rather than at the next poll."""
        self._woken = True
        self._signal.set()

    # -- one round -------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch, send it, record the results; returns how many were handled."""
        jobs = await self._transaction([], self.settings.batch)
        if jobs:
            outcomes = await asyncio.gather(*(self._attempt(job) for job in jobs))
            await self._transaction(list(outcomes), 0)
        return len(jobs)

    # -- the long-running loop -------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, keeping the send slots busy; errors are logged, not fatal.

        On stop, sends not yet started are given back and the ones in flight are recorded.
        """
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task[Outcome]] = set()
        results: list[Outcome] = []
        claim_at, first_result_at = 0.0, 0.0
        interval = self.settings.flush_interval.total_seconds()
        watcher = asyncio.ensure_future(stop.wait())
        watcher.add_done_callback(lambda _: self._signal.set())

        def finished(task: asyncio.Task[Outcome]) -> None:
            nonlocal first_result_at
            tasks.discard(task)
            if not task.cancelled() and task.exception() is None:
                if not results:
                    first_result_at = loop.time()
                results.append(task.result())
            self._signal.set()

        self._draining = False
        try:
            while not (stop.is_set() and not tasks and not results):
                self._signal.clear()
                self._draining = stop.is_set()
                now = loop.time()
                room = 0 if self._draining else self._high_water - len(tasks)
                claim = room >= max(1, self._high_water // 2) and (self._woken or now >= claim_at)
                flush = bool(results) and (
                    claim
                    or not tasks
                    or len(results) >= self.settings.batch
                    or now - first_result_at >= interval
                )
                if claim or flush:
                    limit = min(self.settings.batch, room) if claim else 0
                    if claim:
                        self._woken = False
                    # Results that arrive while this transaction runs go into a fresh list.
                    batch, results = (results, []) if flush else ([], results)
                    try:
                        jobs = await self._transaction(batch, limit)
                    except Exception:
                        log.exception("delivery worker %s: database round failed", self.worker_id)
                        if stop.is_set():  # give up; the leases run out and others take over
                            break
                        results = batch + results
                        claim_at = first_result_at = loop.time() + self._poll()
                        await self._pause(self._poll())
                        continue
                    for job in jobs:
                        task = asyncio.create_task(self._attempt(job))
                        tasks.add(task)
                        task.add_done_callback(finished)
                    if claim:
                        claim_at = now if len(jobs) == limit else now + await self._idle_delay()
                    continue
                waits = [self._poll()]
                if room >= max(1, self._high_water // 2):
                    waits.append(claim_at - now)
                if results:
                    waits.append(first_result_at + interval - now)
                await self._pause(max(0.0, min(waits)))
        finally:
            watcher.cancel()
            for task in tasks:  # cancelled: unrecorded rows go back when their lease ends
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _poll(self) -> float:
        return self.settings.poll_interval.total_seconds()

    async def _pause(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._signal.wait()
        except TimeoutError:
            pass

    async def _idle_delay(self) -> float:
        """Seconds until the next delivery falls due (at most one poll interval)."""
        try:
            async with read(self.engine) as conn:
                due = await queue.next_due(conn, self._clock(), self.settings.lease)
        except Exception:
            log.exception("delivery worker %s: cannot read the queue", self.worker_id)
            return self._poll()
        if due is None:
            return self._poll()
        # A floor keeps a row that another worker holds in its claim from spinning us.
        return min(self._poll(), max(0.01, (due - self._clock()).total_seconds()))

    # -- sending ---------------------------------------------------------------------------

    async def _attempt(self, job: Job) -> Outcome:
        gate = self._gates.get(job.host)
        if gate is None:
            gate = self._gates[job.host] = _Gate(self.settings.per_host, job.host_failures)
        gate.users += 1
        try:
            async with gate.slots:
                while gate.probe is not None:  # half-open: wait for the probe's verdict
                    await gate.probe.wait()
                return await self._through_gate(gate, job)
        finally:
            gate.users -= 1
            if gate.users == 0:
                self._gates.pop(job.host, None)

    async def _through_gate(self, gate: _Gate, job: Job) -> Outcome:
        async with self._slots:  # decide only once a slot is ours: waiting uses up the lease
            now = self._clock()
            if gate.open_until is not None and gate.open_until > now:
                return Outcome(job, "deferred", now, gate.open_until, error="circuit open")
            if self._draining or job.lease_until - now < self._margin:
                return Outcome(job, "released", now)
            probe = asyncio.Event() if gate.failures >= self.settings.breaker_threshold else None
            if probe is not None:
                gate.probe = probe
            try:
                outcome = await self._send(job)
            finally:
                if probe is not None:
                    gate.probe = None
                    probe.set()
        gate.note(outcome, self.settings)
        return outcome

    async def _send(self, job: Job) -> Outcome:
        settings, attempts = self.settings, job.attempts + 1
        try:
            auth = self._auth
            if self._signer_for is not None:
                auth = await self._signer_for(job.body) or auth
            status = await self.fetcher.post(job.inbox, job.body, auth=auth)
        except Exception as exc:  # anything but cancellation is a failed attempt, never fatal
            if not isinstance(exc, FetchError):
                log.exception("delivery %s to %s failed unexpectedly", job.id, job.inbox)
            judgement = judge_error(exc, attempts, settings)
        else:
            judgement = (
                Judgement("done", status)
                if 200 <= status < 300
                else Judgement("retry", status, f"unexpected HTTP {status}")
            )
        now = self._clock()
        kind, error, next_at = judgement.verdict, judgement.error, None
        if kind == "retry" and now - job.created_at >= settings.max_age:
            kind, error = "dead", f"still failing after {settings.max_age}: {error}"
        elif kind == "retry":
            next_at = now + backoff_delay(settings, attempts, judgement.retry_after)
        if kind == "dead":
            log.info("delivery %s to %s is dead: %s", job.id, job.inbox, error)
        return Outcome(job, kind, now, next_at, judgement.status, error)

    # -- the database ----------------------------------------------------------------------

    async def _transaction(self, outcomes: list[Outcome], claim: int) -> list[Job]:
        """Record `outcomes` and claim up to `claim` due rows, in one write transaction."""
        now = self._clock()
        async with write(self.engine) as conn:
            if outcomes:
                await queue.record(
                    conn, outcomes, worker_id=self.worker_id, now=now, breaker=self._breaker
                )
            if not claim:
                return []
            return await queue.claim(
                conn,
                worker_id=self.worker_id,
                limit=claim,
                lease=self.settings.lease,
                now=now,
                breaker=self._breaker,
            )
