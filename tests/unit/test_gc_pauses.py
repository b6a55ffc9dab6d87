"""The collector tuning of the long-running processes still frees garbage cycles."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from shared.runtime.gc_pauses import YOUNG_THRESHOLD, freeze_startup_objects


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_garbage_cycles_made_after_start_up_are_still_collected(restored_collector: None):
    freeze_startup_objects()
    first = Node()
    first.other = Node()
    first.other.other = first  # a cycle: reference counting alone never frees it
    watch = weakref.ref(first)
    del first
    for _ in range(YOUNG_THRESHOLD):  # garbage cycles piling up, as in a long run
        cycle = Node()
        cycle.other = cycle
    assert watch() is None
