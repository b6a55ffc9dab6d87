"""Books kept in memory while their session is given to another instrument.

A replica holds at most MATCHER_MAX_SESSIONS sessions, but the slots take turns (see
InstrumentWorker.run): a book whose session is given up goes here, and the next time a slot
takes that session it starts from the parked book instead of the latest snapshot, and
replays only what the journal holds past it (nothing, unless another replica held the
instrument meanwhile). Taking turns therefore costs a journal read, not a recovery.

A book is parked only after a clean release (everything it processed is journaled,
published and settled), so a parked book is exactly the journal up to its seq. Bounded:
the least recently parked book goes first (it is rebuilt from its snapshot if needed).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from matcher.service.venue import Venue

MAX_PARKED = 1_024


@dataclass(slots=True)
class ParkedBook:
    """A venue at a journaled seq, with what its worker knew about it."""

    venue: Venue
    snapshot_seq: int  # seq of the latest snapshot saved of it
    snapshot_at: int  # when that snapshot was saved (ns)
    seen: OrderedDict[str, None]  # command ids processed, newest last


class ParkedBooks:
    """Parked books by symbol, least recently parked first out."""

    def __init__(self, size: int = MAX_PARKED) -> None:
        self._size = size
        self._books: OrderedDict[str, ParkedBook] = OrderedDict()

    def __len__(self) -> int:
        return len(self._books)

    def __contains__(self, symbol: str) -> bool:
        return symbol in self._books

    def park(self, symbol: str, book: ParkedBook) -> None:
        self._books.pop(symbol, None)
        self._books[symbol] = book
        while len(self._books) > self._size:
            self._books.popitem(last=False)

    def take(self, symbol: str) -> ParkedBook | None:
        """The parked book, removed (a worker owns it until it parks it again)."""
        return self._books.pop(symbol, None)

    def drop(self, symbol: str) -> None:
        self._books.pop(symbol, None)
