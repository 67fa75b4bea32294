"""Checking a sync's copies on the machine's other cores.

A backfill spends much of its time checking documents: reading each as a commons asset,
verifying its Ed25519 proof, rebuilding what was understood. That work is pure CPU and the
same for every document, so during a large sync worker processes check the next page while
the syncing process stores the one before. What needs the network or the database stays
here: the cheap precheck and the proof keys, which are sent to the workers as raw bytes. A
document whose proof fails with the key held comes back and is checked here by
`check_copy`, which fetches the key again (the origin may have rotated it).

A page whose next page is known without parsing it (named in a Link header) goes to a worker
whole, as fetched: the worker parses and reads it too, so this process, which also stores
the pages, neither parses its documents nor writes them out again to send them. Documents
whose key the worker was not given come back and are checked here, and their key is sent
with the next pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
from collections.abc import Awaitable
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor
from typing import Any, NamedTuple, TypeVar

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from federation import shared_contexts
from federation.actors import ActorDirectory
from registry.fediverse.check_worker import (
    RETRY_HERE,
    Here,
    PageExamined,
    examine_all,
    examine_page,
    ready,
    worker_started,
)
from registry.fediverse.copy_reading import CopyRefused, RemoteCopy, precheck
from registry.fediverse.mirror import check_copy, proof_key

log = logging.getLogger("registry.fediverse.copy_checks")

POOL_MIN_DOCUMENTS = 50  # a page smaller than this is checked here: starting workers costs more


class _Here(NamedTuple):
    """A document to check in this process (`check_copy`) rather than in a worker."""

    document: Any


def worker_count(setting: int) -> int:
    """Worker processes for `mirror.check_processes` (-1: one per core, none on one core)."""
    if setting >= 0:
        return setting
    cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


class CheckPool:
    """Worker processes checking copies, shared by the syncs of one round; started when the
    first large page needs them, stopped by `close`."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.executor: Executor | None = None
        self.warming: asyncio.Future[list[None]] | None = None

    @property
    def ready(self) -> bool:
        if self.warming is None or not self.warming.done():
            return False
        if self.warming.cancelled() or self.warming.exception() is not None:
            self.broken(self.warming.exception())
            return False
        return True

    def broken(self, error: BaseException | None) -> None:
        """Workers that could not start or died: check in this process from now on."""
        log.warning("checking copies in this process: the worker processes failed: %r", error)
        self.close()
        self.processes = 0

    def start(self) -> None:
        if self.executor is not None or not self.processes:
            return
        # spawn: the workers start clean, without this process's threads and connections.
        self.executor = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=worker_started,
            initargs=(os.getpid(),),
        )
        loop = asyncio.get_running_loop()
        # Start every worker now; until they are up, pages are checked in this process.
        warm = [loop.run_in_executor(self.executor, ready) for _ in range(self.processes)]
        self.warming = asyncio.gather(*warm)

    def examine(
        self, jobs: list[tuple[bytes, bytes | None]], from_host: str
    ) -> Awaitable[list[Any]]:
        """`examine_all` of the jobs, shared out among the workers and sent to them now;
        awaiting what this returns gives the results in order."""
        loop = asyncio.get_running_loop()
        share = max(1, -(-len(jobs) // self.processes))
        parts = [jobs[i : i + share] for i in range(0, len(jobs), share)]
        sent = [loop.run_in_executor(self.executor, examine_all, part, from_host) for part in parts]
        return _joined(sent)

    def examine_page(self, *args: Any) -> asyncio.Future[PageExamined]:
        """`examine_page(*args)` in a worker, sent now."""
        return asyncio.get_running_loop().run_in_executor(self.executor, examine_page, *args)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self.warming = None


class CopyChecker:
    """Checks the asset documents of one partner's pages: in the pool's worker processes
    when a page is large enough to pay for starting them, otherwise in this process."""

    def __init__(self, directory: ActorDirectory, from_host: str, pool: CheckPool) -> None:
        self.directory = directory
        self.from_host = from_host
        self.pool = pool
        self.raw_keys: dict[str, bytes | None] = {}  # proof key id -> raw Ed25519 key

    async def check(self, documents: list[Any]) -> tuple[list[RemoteCopy], list[str]]:
        """The copies taken, in order, and why each of the others was refused."""
        return await (await self.submit(documents))

    async def submit(self, documents: list[Any]) -> asyncio.Future[Checked]:
        """Start checking: the precheck and keys here, then (once the workers are up) the
        rest in them. Awaiting what this returns gives what `check` gives, so the caller
        may submit the next page before this one is done."""
        if len(documents) >= POOL_MIN_DOCUMENTS:
            self.pool.start()
        if not self.pool.ready:
            return _done(await self._check_here(documents))
        # The document as JSON (cheaper to send than pickled; its shared contexts by
        # reference), its key; what it was here.
        jobs: list[tuple[bytes, bytes | None]] = []
        sent: list[tuple[Any, str | None]] = []
        outcomes: list[str | int | _Here] = []  # per document: a reason, a job, or check here
        for document in documents:
            try:
                method = precheck(document, self.from_host)
                raw = await self._raw_key(method)
            except CopyRefused as exc:
                outcomes.append(str(exc))
                continue
            if method is not None and raw is None:  # a key no worker can use: check here
                outcomes.append(_Here(document))
                continue
            outcomes.append(len(jobs))
            jobs.append((shared_contexts.dumps(document, by_reference=True), raw))
            sent.append((document, method))
        try:
            examined = self.pool.examine(jobs, self.from_host)
        except BrokenExecutor as exc:  # a worker died since the last page
            self.pool.broken(exc)
            return _done(await self._check_here(documents))
        return asyncio.ensure_future(self._finish(documents, examined, outcomes, sent))

    def submit_page(
        self, body: bytes, url: str, next_url: str, max_depth: int
    ) -> asyncio.Future[tuple[PageExamined, Checked] | None]:
        """Send a whole page as fetched to a worker, which parses and reads it as well
        (`check_worker.examine_page`); for a pool that is `ready`. Awaiting what this returns
        gives the worker's reading and what `check` gives for its documents; or None when the
        workers failed (then read the page here)."""
        keys = {method: raw for method, raw in self.raw_keys.items() if raw is not None}
        try:
            examined = self.pool.examine_page(body, url, next_url, self.from_host, keys, max_depth)
        except BrokenExecutor as exc:
            self.pool.broken(exc)
            return _done(None)
        return asyncio.ensure_future(self._finish_page(examined))

    async def _finish_page(
        self, examined: Awaitable[PageExamined]
    ) -> tuple[PageExamined, Checked] | None:
        try:
            page = await examined
        except BrokenExecutor as exc:
            self.pool.broken(exc)
            return None
        outcomes: list[Any] = []
        methods = set()  # keys the worker lacked, or whose proofs failed (rotated, maybe)
        for result in page.results:
            if isinstance(result, Here):
                methods.add(result.method)
                if result.stale:
                    self.raw_keys.pop(result.method, None)
                result = _Here(shared_contexts.loads(result.text))
            outcomes.append(result)
        settled = await self._settle(outcomes)  # fetching the keys as needed
        for method in methods - self.raw_keys.keys():  # the workers have them from now on
            with contextlib.suppress(CopyRefused):  # a key that cannot be had: refused here
                await self._raw_key(method)
        return page, settled

    async def _settle(self, outcomes: list[Any]) -> Checked:
        """Copies in order and the reasons for refusals, from outcomes that are a copy, a
        reason, or a document to check here."""
        copies, refusals = [], []
        for outcome in outcomes:
            if isinstance(outcome, RemoteCopy):
                copies.append(outcome)
            elif isinstance(outcome, str):
                refusals.append(outcome)
            else:
                copies_here, refused_here = await self._check_here([outcome.document])
                copies += copies_here
                refusals += refused_here
        return copies, refusals

    async def _finish(
        self,
        documents: list[Any],
        examined: Awaitable[list[Any]],
        outcomes: list[str | int | _Here],
        sent: list[tuple[Any, str | None]],
    ) -> Checked:
        try:
            checked = await examined
        except BrokenExecutor as exc:  # a worker killed (out of memory, say): nothing is lost
            self.pool.broken(exc)
            return await self._check_here(documents)
        settled: list[Any] = []
        for outcome in outcomes:
            if isinstance(outcome, int):
                result = checked[outcome]
                if result is RETRY_HERE:  # the key may have rotated: resolve it again next page
                    document, method = sent[outcome]
                    self.raw_keys.pop(method or "", None)
                    result = _Here(document)
                outcome = result
            settled.append(outcome)
        return await self._settle(settled)

    async def _check_here(self, documents: list[Any]) -> tuple[list[RemoteCopy], list[str]]:
        copies, refusals = [], []
        for document in documents:
            try:
                copies.append(
                    await check_copy(document, from_host=self.from_host, directory=self.directory)
                )
            except CopyRefused as exc:
                refusals.append(str(exc))
        return copies, refusals

    async def _raw_key(self, method: str | None) -> bytes | None:
        """The raw bytes of the proof key `method` (None: no proof, or not an Ed25519 key)."""
        if method is None:
            return None
        if method not in self.raw_keys:
            key = await proof_key(method, self.directory, fresh=False)
            self.raw_keys[method] = (
                key.public_bytes(Encoding.Raw, PublicFormat.Raw)
                if isinstance(key, ed25519.Ed25519PublicKey)
                else None
            )
        return self.raw_keys[method]


Checked = tuple[list[RemoteCopy], list[str]]
T = TypeVar("T")


async def _joined(parts: list[asyncio.Future[list[Any]]]) -> list[Any]:
    return [result for part in await asyncio.gather(*parts) for result in part]


def _done(checked: T) -> asyncio.Future[T]:
    done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    done.set_result(checked)
    return done
