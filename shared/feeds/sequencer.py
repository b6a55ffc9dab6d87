"""Contiguous sequence numbers per feed stream."""

from __future__ import annotations

from collections.abc import Mapping


class FeedSequencer:
    """Stamps each stream with 1, 2, 3, ...: a client that sees a jump knows it missed messages.

    Pure and in memory. A process that takes over a stream (a restarted matcher, another
    Function instance) restores the last number it knows from durable state, or starts a new
    stream epoch so clients re-sync over REST.
    """

    __slots__ = ("_last",)

    def __init__(self, last: Mapping[str, int] | None = None) -> None:
        self._last: dict[str, int] = dict(last or {})

    def next(self, stream: str) -> int:
        """The next number of `stream` (1 for a new stream)."""
        value = self._last.get(stream, 0) + 1
        self._last[stream] = value
        return value

    def last(self, stream: str) -> int:
        """The last number handed out for `stream` (0 if none)."""
        return self._last.get(stream, 0)

    def restore(self, stream: str, last: int) -> None:
        """Continue `stream` after `last` (never backwards)."""
        if last < 0:
            raise ValueError("a sequence number is never negative")
        self._last[stream] = max(last, self._last.get(stream, 0))
