"""Group commit's parts: the commit a group's writers await, a write queued while the
connection commits, and the thread the COMMITs run on (see `database` for how they work
together)."""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class Commit(asyncio.Future[None]):
    """A group's commit, awaited by every writer of the group. A writer's task that is
    cancelled cannot cancel it (cancel() declines): the task gets its CancelledError once
    the group has committed, and the commit and the other writers go on undisturbed.
    The queued writers of the group (`Queued`) are answered along with it."""

    def __init__(self, *, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self.answers: list[tuple[Queued[Any], Any]] = []

    def cancel(self, msg: Any | None = None) -> bool:
        return False

    def settle(self, error: BaseException | None) -> None:
        """Committed (error None) or not: tell every writer of the group."""
        if error is None:
            self.set_result(None)
        else:
            self.set_exception(error)
        for queued, result in self.answers:
            if error is None:
                queued.set_result(result)
            else:
                queued.set_exception(error)
        self.answers.clear()


class Queued(asyncio.Future[T]):
    """A write that arrived while the connection was committing: its statements, and the
    future its writer awaits. Once the statements have run, cancel() declines, as Commit's
    does: the writer learns its outcome once the group has committed."""

    def __init__(
        self,
        statements: Callable[[sqlite3.Connection], T],
        savepoint: bool,
        *,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(loop=loop)
        self.statements = statements
        self.savepoint = savepoint
        self._started = False

    def begin(self) -> bool:
        """Mark the statements as running; False if the writer was cancelled before."""
        if self.cancelled():
            return False
        self._started = True
        return True

    def cancel(self, msg: Any | None = None) -> bool:
        return False if self._started else super().cancel(msg)


Outcome = BaseException | None  # a commit's error, None when it committed


class CommitJob:
    """One COMMIT on the committer thread and what the event loop does with its outcome.

    `then` runs on the loop exactly once, whichever comes first: the thread's callback, or
    a writer that finds the job done (`deliver_if_done`) and so need not wait for the loop
    to reach that callback behind everything queued before it."""

    __slots__ = ("commit", "delivered", "done", "outcome", "then")

    def __init__(self, commit: Callable[[], Outcome], then: Callable[[Outcome], None]) -> None:
        self.commit = commit
        self.then = then
        self.outcome: Outcome = None
        self.done = False  # set by the thread once the connection is free again
        self.delivered = False  # read and set on the loop only

    def deliver(self) -> None:
        if not self.delivered:
            self.delivered = True
            self.then(self.outcome)

    def deliver_if_done(self) -> None:
        if self.done:
            self.deliver()


class Committer:
    """The thread the COMMITs run on. It hands each outcome straight to the event loop
    (`call_soon_threadsafe`, no executor future and its extra turn of the loop)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[CommitJob, asyncio.AbstractEventLoop] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._run, name="sqlite-commit", daemon=True)
        self._thread.start()

    def submit(
        self,
        commit: Callable[[], Outcome],
        then: Callable[[Outcome], None],
        loop: asyncio.AbstractEventLoop,
    ) -> CommitJob:
        """Run `commit` on the thread, then `then(its outcome)` on `loop`."""
        job = CommitJob(commit, then)
        self._jobs.put((job, loop))
        return job

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, loop = item
            try:
                job.outcome = job.commit()
            except BaseException as error:  # delivered: the writers must not wait forever
                job.outcome = error
            job.done = True
            try:
                loop.call_soon_threadsafe(job.deliver)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                log.warning("a commit finished after its event loop closed: %r", job.outcome)

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join()
