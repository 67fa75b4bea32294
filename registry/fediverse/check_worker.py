"""What a sync's check worker process runs (registry.fediverse.copy_checks starts them).

Kept apart so that a worker imports only what checking needs (the reading of copies, the
proofs), not the network and database code of the syncing process: with two workers, each
start was ~0.2 s of CPU more at the beginning of every large sync.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric import ed25519

from federation import proofs, safejson, shared_contexts
from registry.fediverse.copy_reading import CopyRefused, examine, precheck
from registry.fediverse.page_items import BadPage, horizon, page_parts, read_items

RETRY_HERE = None  # a worker's answer for a proof that failed with the key it was given

WORKER_NICENESS = 10
PARENT_CHECK_SECONDS = 1.0


def worker_started(parent: int) -> None:
    """Run first in each worker, given the pid of the process that started it. Its checks
    take the cores only when the node's own processes (serving requests, storing the pages)
    do not want them. And it ends with that process, even one killed with SIGKILL: it would
    otherwise wait for jobs for ever, since it holds the writing end of its own job pipe too
    (seen after a killed sync). The pid comes from the parent, not `os.getppid()` here: a
    sync killed while its workers were still importing has already left them to init."""
    with contextlib.suppress(OSError, AttributeError):  # not permitted, or not POSIX
        os.nice(WORKER_NICENESS)
    threading.Thread(target=_end_with, args=(parent,), name="end-with-parent", daemon=True).start()


def _end_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def ready() -> None:
    """Run in each worker as it starts: importing this module was the work."""


_keys: dict[bytes, ed25519.Ed25519PublicKey] = {}


def examine_all(jobs: list[tuple[bytes, bytes | None]], from_host: str) -> list[Any]:
    """In a worker: each document examined with its key. A copy taken, the reason it was
    refused, or RETRY_HERE when its proof failed with this key."""
    results: list[Any] = []
    for text, raw in jobs:
        document = shared_contexts.loads(text)  # parsed once already, with its nesting checked
        # A text with references (marked) is in the stored form, its references those that
        # registry.core.stored_documents lists: kept as it is for a document stored as sent.
        # Any other is written again by `to_stored`, which may find a listed context in it.
        stored_text = text.decode() if text.startswith(shared_contexts.MARK.encode()) else None
        results.append(_examined(document, from_host, raw, stored_text))
    return results


def _examined(document: Any, from_host: str, raw: bytes | None, stored_text: str | None) -> Any:
    key = None
    if raw is not None:
        key = _keys.get(raw)
        if key is None:
            key = _keys[raw] = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    try:
        return examine(document, from_host, key, stored_text)
    except CopyRefused as exc:
        return str(exc)
    except proofs.ProofError:
        return RETRY_HERE


class Here(NamedTuple):
    """A document of a page that the syncing process checks: its proof's key was not sent
    (or failed: `stale`), so the key is fetched there. The document as `dumps` wrote it."""

    method: str
    text: bytes
    stale: bool


class PageExamined(NamedTuple):
    """What a worker read of a whole page: what `page_items.read_items` reads, the page's
    horizon, and per document in order a copy, the reason it was refused, or `Here`."""

    last_seq: int
    horizon: int
    deletions: list[Any]
    moves: list[tuple[str, str]]
    refusals: list[str]
    results: list[Any]


def examine_page(
    body: bytes, url: str, next_url: str, from_host: str, keys: dict[str, bytes], max_depth: int
) -> PageExamined:
    """In a worker: a page of the changes feed as fetched, parsed and read here (the syncing
    process knows its next page from the Link header, which must name the page's own
    `next`), each document examined with the key its proof names, from `keys`."""
    try:
        page = safejson.loads(body, max_depth=max_depth)
    except safejson.JsonError as exc:
        raise BadPage(f"{url}: {exc}") from None
    items, _next = page_parts(page, url, next_url)
    read = read_items(items, page.get("@context"), from_host)
    results: list[Any] = []
    for document in read.documents:
        try:
            method = precheck(document, from_host)
        except CopyRefused as exc:
            results.append(str(exc))
            continue
        raw = None if method is None else keys.get(method)
        if method is not None and raw is None:
            results.append(Here(method, shared_contexts.dumps(document, by_reference=True), False))
            continue
        result = _examined(document, from_host, raw, None)
        if result is RETRY_HERE:
            result = Here(method, shared_contexts.dumps(document, by_reference=True), True)
        results.append(result)
    return PageExamined(
        read.last_seq, horizon(page), read.deletions, read.moves, read.refusals, results
    )
