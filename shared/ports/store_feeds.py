"""The feed-stream port: where each durable live-feed stream stands (its epoch and the last
sequence number handed out), shared by every process that publishes on it."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FeedPosition:
    """A stream's epoch and the last sequence number handed out in it."""

    epoch: str
    seq: int


def new_epoch() -> str:
    """A fresh random epoch for a stream the store does not hold yet."""
    return secrets.token_hex(8)


class FeedStreamRepository(Protocol):
    """Stream positions keyed by stream name (`account:{account_id}`)."""

    async def advance(self, stream: str, count: int) -> FeedPosition:
        """Hand out the stream's next `count` numbers, atomically however many processes
        ask at once: returns the position after them, so the numbers are
        `seq - count + 1 .. seq`. A stream not stored yet is stored first, at 0 under a
        `new_epoch()`; its epoch never changes afterwards."""
        ...

    async def advance_all(self, counts: Sequence[tuple[str, int]]) -> list[FeedPosition]:
        """`advance` of each (stream, count), in one store call; the positions in order."""
        ...

    async def position(self, stream: str) -> FeedPosition | None:
        """Where the stream stands, or None if nothing was ever numbered on it."""
        ...
