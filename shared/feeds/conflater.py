"""Conflation of book updates: at most N per second per instrument, the latest one wins."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

Book = TypeVar("Book")


class BookConflater(Generic[Book]):
    """Decides which book snapshots to send so an instrument's feed stays within its rate.

    `offer` returns the book when it may go out now, else keeps it as the instrument's pending
    book (replacing an older pending one). `due` hands out the pending books whose interval has
    passed; call it from a timer (`next_due_in` says when). The clock is injectable for tests.
    """

    def __init__(self, max_per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        if max_per_second <= 0:
            raise ValueError("max_per_second must be positive")
        self.interval = 1.0 / max_per_second
        self._clock = clock
        self._sent_at: dict[str, float] = {}
        self._pending: dict[str, Book] = {}

    def _may_send(self, instrument: str, now: float) -> bool:
        last = self._sent_at.get(instrument)
        return last is None or now - last >= self.interval

    def offer(self, instrument: str, book: Book) -> Book | None:
        """The book to send now, or None if it is held back as the pending book."""
        now = self._clock()
        if self._may_send(instrument, now):
            self._pending.pop(instrument, None)  # this newer book replaces it
            self._sent_at[instrument] = now
            return book
        self._pending[instrument] = book
        return None

    def due(self) -> list[tuple[str, Book]]:
        """Pending books that may go out now (each instrument's latest)."""
        now = self._clock()
        ready = [i for i in self._pending if self._may_send(i, now)]
        for instrument in ready:
            self._sent_at[instrument] = now
        return [(i, self._pending.pop(i)) for i in ready]

    def next_due_in(self) -> float | None:
        """Seconds until the earliest pending book may go out; None if nothing is pending."""
        if not self._pending:
            return None
        now = self._clock()
        waits = (self._sent_at[i] + self.interval - now for i in self._pending)
        return max(0.0, min(waits))
