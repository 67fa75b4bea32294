"""Python's cyclic garbage collector, set for a process that runs for days.

By default a young collection runs every 700 net new container objects, and a full one now
and then walks every object the process holds. A node's processes keep what they made while
starting (modules, the ORM's tables, compiled statements, the vocabulary: 120,000-140,000
objects) for their whole life, and every request makes the dicts and lists of a JSON
document. In one B1 run the web process made about 800 young and 3 full collections, half a
second of its CPU, and each full one held the event loop for about 100 ms.

So once a process has started, what it holds is put out of the collector's reach
(`gc.freeze`; nearly all of it lives as long as the process) and young collections come about
14 times less often: 0.04 s of collection in the same run, none of it a full walk
(docs/performance.md, tenth pass). Reference cycles made later are still freed, only later.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # net new container objects between two young collections (700)


def settle_after_start() -> None:
    """Call once a long-running process (web server, worker, sync) has started. Not for a
    process that starts and stops many applications (the test suite): what is alive when
    this runs is never collected."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
