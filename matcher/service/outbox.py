"""The transactional outbox of one instrument: journal, then publish, then complete.

A `Segment` is a run of processed commands whose effects become durable together. Flushing
it appends the new journal entries (the record), publishes their event batches to
`executions` (message id `<symbol>:<first_seq>`, so duplicate detection absorbs a re-publish),
moves the published mark, and only then completes the command messages. A crash between any
two steps leaves the journal ahead of the bus, never behind: recovery re-publishes, and a
redelivered command is found in the journal and skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from matcher.service.errors import InstrumentLost
from shared.domain.events import Event, event_from_dict
from shared.messages import EventBatch, event_batch_message
from shared.ports.bus import Bus, BusMessage, MessageLockLostError, SessionReceiver
from shared.ports.store_errors import JournalConflict
from shared.ports.store_journal import JournalEntry, JournalRepository


@dataclass(slots=True)
class Segment:
    """Commands processed since the last flush and what they left to make durable."""

    entries: list[tuple[JournalEntry, list[Event]]] = field(default_factory=list)
    republish: list[JournalEntry] = field(default_factory=list)
    settle: list[BusMessage] = field(default_factory=list)
    # A command that caused no events is recorded only by completing its message, so it
    # must be completed before any later command's entry is journaled: otherwise a crash
    # would redeliver it onto a state it never saw (see InstrumentWorker).
    unrecorded: bool = False

    def __bool__(self) -> bool:
        return bool(self.entries or self.republish or self.settle)


def journal_entry(symbol: str, command: dict[str, object], events: list[Event]) -> JournalEntry:
    return JournalEntry(
        symbol=symbol,
        command_id=str(command["command_id"]),
        first_seq=events[0].seq,
        last_seq=events[-1].seq,
        command=command,
        events=[e.to_dict() for e in events],
    )


def batch_message(entry: JournalEntry, events: Sequence[Event] | None = None) -> BusMessage:
    """The `executions` message of one journal entry (events rebuilt if not given)."""
    if events is None:
        events = [event_from_dict(e) for e in entry.events]
    batch = EventBatch(
        entry.symbol, entry.command_id, entry.first_seq, entry.last_seq, tuple(events)
    )
    return event_batch_message(batch)


class Outbox:
    """Journal, publish and settle for one instrument held by one session receiver."""

    def __init__(
        self,
        symbol: str,
        journal: JournalRepository,
        bus: Bus,
        executions_queue: str,
        receiver: SessionReceiver,
        published_seq: int,
    ) -> None:
        self.symbol = symbol
        self.published_seq = published_seq
        self._journal = journal
        self._bus = bus
        self._queue = executions_queue
        self._receiver = receiver

    async def journal(self, entries: list[JournalEntry]) -> None:
        """Append the entries; InstrumentLost if the journal moved under us."""
        if not entries:
            return
        try:
            stored = await self._journal.append(entries)
        except JournalConflict as error:
            raise InstrumentLost(str(error)) from error
        for ours, theirs in zip(entries, stored, strict=True):
            if ours != theirs:  # another worker journaled this command at other seqs
                raise InstrumentLost(f"{self.symbol}: {ours.command_id} journaled elsewhere")

    async def publish(self, messages: list[BusMessage], up_to: int) -> None:
        """Send event batches, then record that everything up to `up_to` is published."""
        if not messages:
            return
        await self._bus.send(self._queue, messages)
        await self._journal.mark_published(self.symbol, up_to)
        self.published_seq = max(self.published_seq, up_to)

    async def settle(self, messages: list[BusMessage]) -> None:
        """Complete the command messages; a lost lock surfaces after all were tried."""
        if not messages:
            return
        results = await asyncio.gather(
            *(self._receiver.complete(m) for m in messages), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            # Anything but a single lost message lock (a lost session, a crash) says more.
            others = [e for e in errors if not isinstance(e, MessageLockLostError)]
            raise (others or errors)[0]

    async def flush(self, segment: Segment) -> list[Event]:
        """Make the segment durable in outbox order; the newly journaled events."""
        await self.journal([entry for entry, _ in segment.entries])
        messages = [batch_message(e) for e in segment.republish]
        messages += [batch_message(entry, events) for entry, events in segment.entries]
        seqs = [e.last_seq for e in segment.republish] + [e.last_seq for e, _ in segment.entries]
        await self.publish(messages, max(seqs, default=0))
        await self.settle(segment.settle)
        return [event for _, events in segment.entries for event in events]
