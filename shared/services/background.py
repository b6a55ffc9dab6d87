"""Bookkeeping a request starts but does not wait for.

Only for writes whose loss costs a repeat and never an acknowledged fact: today the outbox
mark of a dispatched order (lost, the sweep sends the NewOrder again and the matcher skips
it by its command id). The tasks are held until they finish (the loop keeps only weak
references), failures are logged, and `drain` lets shutdown finish them before the store
closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Background:
    """The tasks started with `spawn` that have not finished yet."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], what: str) -> None:
        """Run `work` on its own; `what` names it in the log if it fails."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(done, what))

    def _finished(self, task: asyncio.Task[Any], what: str) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s failed: %r", what, task.exception())

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait (up to `timeout` seconds) for the tasks started so far."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
