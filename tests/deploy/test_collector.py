"""A long-running process's garbage collector, once settled: what start-up made is out of the
collector's reach, young collections are rarer, and cycles made later are still freed. Run in
a fresh interpreter: freezing the test process would keep its garbage for good."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc, weakref
from registry.ops import collector
import registry.app  # what a server process has imported when it settles
collector.settle_after_start()
print(gc.get_freeze_count(), gc.get_threshold()[0])

class Node:
    pass

a, b = Node(), Node()
a.other, b.other = b, a  # a cycle made after start-up
gone = weakref.ref(a)
del a, b
gc.collect()
print(gone() is None)
"""


def test_settling_freezes_what_start_up_made_and_still_frees_later_cycles() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    frozen, young_threshold, freed = int(out[0]), int(out[1]), out[2]
    assert frozen > 50_000  # the modules, tables and vocabulary of a node
    assert young_threshold == 10_000
    assert freed == "True"
