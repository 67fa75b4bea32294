"""Crashes and races in mirroring, with real server processes (issue 13).

A node killed with `kill -9` in the middle of a backfill holds its partner's lease only as
long as it kept renewing it, so after a restart the sync resumes by itself within that lease
(45 s by default: within a minute).
And the three writers of mirrored copies (the inbox worker applying pushes, the background
sync, `commons-registry sync`) running at once on PostgreSQL end with no traceback, exit 0
and exactly one copy of each asset."""

from __future__ import annotations

import asyncio
import subprocess
import time

import pytest

from tests.nodes import eventually
from tests.registry.test_partner_mirroring import catalog, converged, divergence, host
from tests.sample_data import FABLABS_FILE

FABLABS = 2237
LEASE = 8


async def _accepted(follower, followed) -> bool:  # type: ignore[no-untyped-def]
    return "\taccepted\t" in follower.cli("partner", "list")


@pytest.mark.timeout(300)
async def test_a_node_killed_mid_backfill_resumes_within_a_minute_of_restarting(
    node_factory,
) -> None:
    # Small pages make the backfill long (112 pages) so that it can be killed half-way. B
    # holds a partner for LEASE seconds without renewing (45 by default, hence "within a
    # minute"); a shorter lease only makes the test shorter.
    a = node_factory("A", env={"COMMONS_MIRROR_PAGE_SIZE": "20"})
    a.cli("import", str(FABLABS_FILE))
    b = node_factory("B", env={"COMMONS_MIRROR_SYNC_LEASE_SECONDS": str(LEASE)})
    b.cli("partner", "add", a.base_url)  # accepted at once: B's server starts the backfill

    async def started() -> bool:
        return len(await catalog(b, host(a))) >= 100

    await eventually(started, timeout=120, interval=0.05, what="B's backfill under way")
    b.stop(kill=True)
    half = len(await catalog(b, host(a)))
    assert half < FABLABS, "the backfill ended before the kill; nothing to resume"

    b.start()
    restarted = time.monotonic()

    async def resumed() -> bool:
        return len(await catalog(b, host(a))) > half

    await eventually(resumed, timeout=60, interval=0.2, what="B resuming its sync by itself")
    resumed_after = time.monotonic() - restarted
    await eventually(lambda: converged(a, b), timeout=150, what="B holding A's whole catalog")
    assert resumed_after < LEASE + 10
    assert "Traceback" not in b.log_path.read_text(errors="replace")


@pytest.mark.timeout(300)
async def test_inbox_background_sync_and_cli_sync_at_once_on_postgresql(node_factory) -> None:
    a = node_factory(
        "A",
        env={"COMMONS_MIRROR_PAGE_SIZE": "20", "COMMONS_FEDERATION_PUSH_IMPORTS": "true"},
    )
    b = node_factory("B", on="postgresql", env={"COMMONS_MIRROR_SYNC_INTERVAL_MINUTES": "0.05"})
    b.cli("partner", "add", a.base_url)
    await eventually(lambda: _accepted(b, a), timeout=60, what="A accepting B")
    # A pushes every imported asset to B's inbox while B's background sync pulls the same
    # assets every 3 s and two `sync` commands pull them too.
    importer = a.spawn("import", str(FABLABS_FILE))
    await asyncio.sleep(1.0)
    syncs = [b.spawn("sync", stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [await asyncio.to_thread(s.communicate, timeout=240) for s in syncs]
    assert importer.wait(timeout=240) == 0
    for sync, (out, err) in zip(syncs, outputs, strict=True):
        text = (out + err).decode(errors="replace")
        assert sync.returncode == 0, text
        assert "Traceback" not in text, text
    final = b.spawn("sync", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = await asyncio.to_thread(final.communicate, timeout=240)
    assert final.returncode == 0, out.decode(errors="replace")
    await eventually(lambda: converged(a, b), timeout=120, what="B converged with A")
    assert not await divergence(a, b)
    assert len(await catalog(b, host(a))) == FABLABS  # one row per IRI: exactly one copy each
    log = b.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "UniqueViolation" not in log, log
