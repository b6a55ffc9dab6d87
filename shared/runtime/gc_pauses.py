"""Shorter and fewer garbage-collector pauses for the long-running processes.

CPython's full (oldest-generation) collection walks every tracked object; after start-up
(imports, the app, the recovered books) that is about a hundred thousand objects, and each
full collection held the event loop for 70-130 ms under load: a latency spike for every
request in flight. Freezing what start-up made moves it out of the collector's reach for
good, so a full collection only walks what was made since (measured: 10-40 ms). The
frozen objects live as long as the process anyway; nothing else changes.

The youngest generation is collected after YOUNG_THRESHOLD more container objects are
alive than at the last collection (CPython's default is 700). A request or a batch makes
and drops thousands of short-lived objects; at 700 the collector ran hundreds of times a
second, walking the objects still in flight each time and promoting them to the older
generations, whose collections then came more often as well: 4-10% of the event loop's
time at 1,000 orders/s, most of it while the loop was already behind. Objects that die
young (almost all) are freed by reference counting either way; only cycles wait longer.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000


def freeze_startup_objects() -> int:
    """Collect once, freeze everything alive, and collect the young generation less often;
    returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
    return gc.get_freeze_count()
