"""The matcher's journal port: per instrument, one entry per command with the events it made.

The matcher appends an instrument's entries before it publishes their events and completes
the command messages; on restart it replays the tail, re-publishes from the published mark
and skips commands it finds here by command id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from shared.ports.store_errors import JournalConflict


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One command and its events (`Command.to_dict()`, `Event.to_dict()`), which carry
    the instrument sequence numbers `first_seq..last_seq` (inclusive, at least one event).

    `processed_at`: the matcher's wall clock (ns) when it ran the command (0: not recorded,
    an entry of an older version). It is no input of the engine, which takes every time from
    the command, so it changes nothing a replay computes; it is the record of when the
    matcher acted (the latency analytics' acceptance and fill times), kept with the entry
    so a re-publish carries the first time, not the time of the re-publish. Not part of the
    entry's identity: a retried append of the same command at the same seqs is the same
    entry whatever its clock said."""

    symbol: str
    command_id: str
    first_seq: int
    last_seq: int
    command: dict[str, object]
    events: list[dict[str, object]]
    processed_at: int = field(default=0, compare=False)


class JournalRepository(Protocol):
    """Journal entries unique on (symbol, command_id) and on (symbol, first_seq)."""

    async def append(self, entries: Sequence[JournalEntry]) -> list[JournalEntry]:
        """Append a batch of one instrument's entries, in sequence order; returns what is
        stored for each entry, in order.

        Idempotent: an entry whose (symbol, command_id) is stored already is skipped and
        the stored entry returned in its place. A new entry must start right after the last
        stored sequence (the first entry of an instrument may start anywhere); an overlap
        with another command's range or a gap raises JournalConflict, and the entries of the
        batch before the offending one stay stored. Raises ValueError for an entry without
        events or a batch mixing instruments.
        """
        ...

    def read_from(self, symbol: str, seq: int) -> AsyncIterator[JournalEntry]:
        """Entries with last_seq >= seq, in sequence order: `async for e in j.read_from(...)`.
        Reads in pages, so a long tail is not held in memory at once."""
        ...

    async def entries_at(self, symbol: str, seqs: Sequence[int]) -> list[JournalEntry]:
        """The entries holding the events at these sequence numbers, each once, in
        sequence order (an order's audit trail: one indexed look-up per entry)."""
        ...

    async def find_by_command(self, symbol: str, command_id: str) -> JournalEntry | None:
        """The entry journaled for this command, or None."""
        ...

    async def last_seq(self, symbol: str) -> int:
        """The last journaled sequence of the instrument, 0 when nothing is journaled."""
        ...

    async def mark_published(self, symbol: str, seq: int) -> None:
        """Record that events up to `seq` are published. Never moves the mark backwards."""
        ...

    async def published_seq(self, symbol: str) -> int:
        """The published mark of the instrument, 0 when none is recorded."""
        ...

    async def mark_projected(self, symbol: str, seq: int) -> None:
        """Record that the events up to `seq` are applied to the order documents (the
        projector's high-water mark). Never moves the mark backwards."""
        ...

    async def projected_seq(self, symbol: str) -> int:
        """The projected mark of the instrument, 0 when none is recorded."""
        ...


def check_batch(entries: Sequence[JournalEntry]) -> str:
    """The batch's one symbol; ValueError for an empty entry or mixed instruments."""
    symbols = {entry.symbol for entry in entries}
    if len(symbols) != 1:
        raise ValueError("a journal batch holds the entries of exactly one instrument")
    for entry in entries:
        if entry.first_seq < 1 or entry.last_seq < entry.first_seq:
            raise ValueError(f"entry {entry.command_id} has no events or a bad seq range")
    return symbols.pop()


def check_next(entry: JournalEntry, last_seq: int) -> None:
    """A new entry must start right after the last stored sequence (anywhere if none)."""
    if last_seq and entry.first_seq != last_seq + 1:
        raise JournalConflict(
            f"{entry.symbol}: command {entry.command_id} starts at seq {entry.first_seq},"
            f" the journal ends at {last_seq}"
        )
