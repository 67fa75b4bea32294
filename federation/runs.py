"""Cutting a batch of activities into runs that one `Handler.apply_many` (or `prepare_many`)
call can take.

A run is consecutive activities (in arrival order) whose handlers share an `apply_many`, each
ready to apply, and no two about the same object: an Update that follows its Create in the
same batch starts a new run, so it is applied after the Create and sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

W = TypeVar("W")
B = TypeVar("B")


def runs(
    works: list[W], bulk_of: Callable[[W], B | None], object_of: Callable[[W], Any]
) -> Iterator[tuple[B | None, list[W]]]:
    """(the shared bulk function, the run) in order; a work without one is a run of its own
    (with None). `object_of` returning something unique (`id`) cuts only on the function."""
    current: list[W] = []
    current_bulk: B | None = None
    objects: set[Any] = set()
    for work in works:
        bulk, obj = bulk_of(work), object_of(work)
        if current and (bulk is None or bulk is not current_bulk or obj in objects):
            yield current_bulk, current
            current, objects = [], set()
        if bulk is None:
            yield None, [work]
            continue
        current_bulk = bulk
        current.append(work)
        objects.add(obj)
    if current:
        yield current_bulk, current
