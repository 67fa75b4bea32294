"""A large sync checks its copies in worker processes (registry.fediverse.copy_checks); the
workers must take and refuse exactly what the syncing process would: a forged copy, a proof
made with another host's key or a document without a valid form is refused, and a proof made
with a key the origin rotated since is checked again here with the key fetched afresh.

Real parts: spawned worker processes, a partner serving its actor and keys on 127.0.0.1, the
node's own actor directory and database."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import orjson
import pytest

from federation import keys, proofs, shared_contexts
from registry.catalog.projection import dump
from registry.core.stored_documents import MARK, to_stored
from registry.fediverse.check_worker import PARENT_CHECK_SECONDS, RETRY_HERE, examine_all
from registry.fediverse.copy_checks import (
    POOL_MIN_DOCUMENTS,
    CheckPool,
    CopyChecker,
    worker_count,
)
from registry.fediverse.copy_reading import precheck
from registry.runtime import Runtime
from tests.registry.test_security_helpers import Partner


@pytest.fixture
async def workers(victims_mirror: Runtime, victim: Partner) -> AsyncIterator[CopyChecker]:
    """A checker of the victim's documents with one worker process."""
    checker = CopyChecker(
        victims_mirror.federation.directory, f"127.0.0.1:{victim.port}", CheckPool(1)
    )
    try:
        yield checker
    finally:
        checker.pool.close()


def signed(partner: Partner, slug: str, key_owner: Partner | None = None) -> dict:
    signer = key_owner or partner
    return proofs.sign_object(partner.asset(slug), signer.ed_key, signer.proof_key_id)


def page(victim: Partner, attacker: Partner, prefix: str) -> tuple[list[dict], set[str]]:
    """A page of valid copies with three bad ones among them; the ids that must be taken."""
    documents = [signed(victim, f"{prefix}{n}") for n in range(POOL_MIN_DOCUMENTS)]
    forged = signed(victim, f"{prefix}-forged")
    forged["name"] = "Changed after signing"
    not_an_asset = signed(victim, f"{prefix}-kindless")
    del not_an_asset["name"]
    documents[5:5] = [forged, signed(victim, f"{prefix}-wrong", attacker), not_an_asset]
    return documents, {d["id"] for d in documents[:5] + documents[8:]}


async def checked_by_workers(checker: CopyChecker, documents: list[dict]) -> tuple[list, list]:
    """Check a page once the workers are up (until then pages are checked here)."""
    await checker.check(documents)  # starts the workers
    assert checker.pool.warming is not None
    await checker.pool.warming
    return await checker.check(documents)


async def test_workers_take_and_refuse_what_the_syncing_process_would(
    victims_mirror: Runtime, workers: CopyChecker, victim: Partner, attacker: Partner
) -> None:
    documents, valid = page(victim, attacker, "w")
    copies, refusals = await checked_by_workers(workers, documents)
    assert workers.pool.ready  # the page was checked in a worker process
    assert [c.meta.iri for c in copies] == [d["id"] for d in documents if d["id"] in valid]
    assert all(c.proof_checked for c in copies)
    here = CopyChecker(victims_mirror.federation.directory, workers.from_host, CheckPool(0))
    expected_copies, expected_refusals = await here.check(documents)
    assert here.pool.executor is None
    assert copies == expected_copies
    # Each crossed as plain values; its record and document read back from the stored text.
    assert [c.record for c in copies] == [c.record for c in expected_copies]
    assert [c.document for c in copies] == [c.document for c in expected_copies]
    assert refusals == expected_refusals and len(refusals) == 3
    assert any("integrity proof" in r for r in refusals)
    assert any("not a valid commons asset" in r for r in refusals)


def test_a_worker_stores_a_copy_as_the_syncing_process_would_whatever_it_was_sent(
    victim: Partner,
) -> None:
    """Sent by reference (its contexts shared), the text is kept as the stored form; sent
    written out (contexts read as plain values, a partner on another version), it is
    written again in the stored form, its listed contexts by reference."""
    document = signed(victim, "t")
    raw_key = victim.ed_key.public_key().public_bytes_raw()
    host = f"127.0.0.1:{victim.port}"
    for sent in (document, orjson.loads(orjson.dumps(document))):
        text = shared_contexts.dumps(sent, by_reference=True)
        (copy,) = examine_all([(text, raw_key)], host)
        assert copy.form.text == to_stored(dump(document))
        assert copy.form.text.startswith(MARK) and copy.document == document


def test_a_worker_refuses_a_malformed_proof_instead_of_sending_it_back(
    victim: Partner,
) -> None:
    """A value of base58 digits passes the syncing process's precheck (which does not decode
    it); the worker finds it is no signature and refuses the copy: RETRY_HERE would send it
    back to fetch the key again, which no key can fix."""
    document = signed(victim, "short")
    document["proof"]["proofValue"] = "z111"
    host = f"127.0.0.1:{victim.port}"
    assert precheck(document, host) == victim.proof_key_id
    raw_key = victim.ed_key.public_key().public_bytes_raw()
    (result,) = examine_all([(shared_contexts.dumps(document, by_reference=True), raw_key)], host)
    assert result is not RETRY_HERE
    assert isinstance(result, str) and "malformed" in result and "64" in result


async def test_a_rotated_key_is_fetched_again_for_the_workers_refusals(
    workers: CopyChecker, victim: Partner
) -> None:
    before = [signed(victim, f"r{n}") for n in range(POOL_MIN_DOCUMENTS)]
    copies, _ = await checked_by_workers(workers, before)
    assert len(copies) == len(before)
    victim.ed_key = keys.generate_ed25519_key()  # the origin rotates its proof key
    after = [signed(victim, f"s{n}") for n in range(POOL_MIN_DOCUMENTS)]
    copies, refusals = await workers.check(after)
    assert refusals == [] and len(copies) == len(after)


async def test_a_worker_killed_mid_sync_loses_nothing(
    workers: CopyChecker, victim: Partner, attacker: Partner
) -> None:
    documents, valid = page(victim, attacker, "k")
    await checked_by_workers(workers, documents)
    for child in multiprocessing.active_children():
        os.kill(child.pid, signal.SIGKILL)
        child.join()
    copies, refusals = await workers.check(documents)  # checked here instead
    assert {c.meta.iri for c in copies} == valid and len(refusals) == 3
    assert workers.pool.processes == 0 and not workers.pool.ready


def test_the_default_is_a_worker_per_core_and_none_on_one_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert worker_count(0) == 0 and worker_count(3) == 3
    for cores, workers in ((1, 0), (2, 2), (8, 8)):
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        assert worker_count(-1) == workers


def test_a_worker_imports_no_database_http_or_pyld_code() -> None:
    """Each large sync starts its workers afresh: what they import is paid every time (the
    database library was half of a worker's start, then pyld with its HTTP client half of
    the rest). A worker reads our own documents by term, without pyld."""
    heavy = ("sqlalchemy", "httpx", "starlette", "aiosqlite", "asyncpg", "pyld", "requests")
    probe = (
        "import sys, registry.fediverse.check_worker; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "[]", f"a check worker imports {found}"


# A process that starts a pool's worker, says the worker's pid (once it is up, or at once),
# then waits to be killed.
POOL_HOLDER = """
import asyncio, multiprocessing, sys
from registry.fediverse.copy_checks import CheckPool

async def main():
    pool = CheckPool(1)
    pool.start()
    if sys.argv[1] == "up":
        await pool.warming
    (worker,) = multiprocessing.active_children()
    print(worker.pid, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


@pytest.mark.parametrize("when", ["up", "starting"])
def test_a_killed_syncs_workers_end_with_it_at_lower_priority(when: str) -> None:
    """Killed once its worker is up, or while the worker is still importing (a sync killed
    in its first second: the worker then starts with init as its parent already)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", POOL_HOLDER, when], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        worker = int(holder.stdout.readline())
        if when == "up":  # the checks yield the cores to the node's own processes
            ours = os.getpriority(os.PRIO_PROCESS, 0)
            assert os.getpriority(os.PRIO_PROCESS, worker) >= ours + 1
    finally:
        holder.kill()  # SIGKILL: nothing in it can stop its workers
        holder.wait()
    deadline = time.monotonic() + 10 + 10 * PARENT_CHECK_SECONDS  # its start, then its watch
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(worker), "the worker outlived the killed sync"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:  # a zombie has ended; its parent is gone
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
