"""Bookkeeping a request starts but does not wait for.

Only for writes whose loss costs a repeat and never an acknowledged fact: today the outbox
mark of a dispatched order (lost, the sweep sends the NewOrder again and the matcher skips
it by its command id). The tasks are held until they finish (the loop keeps only weak
references), failures are logged, and `drain` lets shutdown finish them before the store
closes. `add_to_batch` gathers such writes: one store call for all the items that arrive
while the previous call runs, instead of a task and a write for each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Background:
    """The tasks started with `spawn` that have not finished yet."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._batches: dict[Callable[[list[Any]], Awaitable[None]], list[Any]] = {}

    def spawn(self, work: Coroutine[Any, Any, Any], what: str) -> None:
        """Run `work` on its own; `what` names it in the log if it fails."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(done, what))

    def _finished(self, task: asyncio.Task[Any], what: str) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s failed: %r", what, task.exception())

    def add_to_batch(self, write: Callable[[list[T]], Awaitable[None]], item: T, what: str) -> None:
        """Have `write` called with `item`, together with the items added while an earlier
        call of the same `write` runs (one call at a time each); `what` names it in the log."""
        waiting = self._batches.get(write)
        if waiting is not None:
            waiting.append(item)
            return
        self._batches[write] = [item]
        self.spawn(self._write_batches(write, what), what)

    async def _write_batches(self, write: Callable[[list[T]], Awaitable[None]], what: str) -> None:
        try:
            while items := self._batches[write]:
                self._batches[write] = []  # what arrives meanwhile goes in the next call
                try:
                    await write(items)
                except Exception as error:
                    log.warning("%s failed for %d: %r", what, len(items), error)
        finally:
            del self._batches[write]

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait (up to `timeout` seconds) for the tasks started so far."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
