"""The transactional outbox of one instrument: journal, then publish, then complete.

A `Segment` is a run of processed commands whose effects become durable together. Flushing
it appends the new journal entries (the record), publishes their events to `executions`
(consecutive entries share a message, up to MAX_EVENTS_PER_MESSAGE events, so the
projector pays its store round trips per batch, not per command; message id
`<symbol>:<first_seq>-<last_seq>`, so duplicate detection absorbs a re-publish of the same
range and never drops one grouped otherwise; each entry's processing time travels along),
moves the published mark, and only then completes the command messages. A crash between any
two steps leaves the journal ahead of the bus, never behind: recovery re-publishes, and a
redelivered command is found in the journal and skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from opentelemetry.trace import SpanKind

from matcher.service.errors import InstrumentLost
from shared.domain.events import Event, VenueRequestIssued, event_from_dict
from shared.messages import EventBatch, event_batch_message
from shared.observability import stages, tracing
from shared.ports.bus import Bus, BusMessage, MessageLockLostError, SessionReceiver
from shared.ports.store_errors import JournalConflict
from shared.ports.store_instruments import InstrumentRepository
from shared.ports.store_journal import JournalEntry, JournalRepository
from shared.venue_requests import issued, request_messages


@dataclass(slots=True)
class Segment:
    """Commands processed since the last flush and what they left to make durable."""

    entries: list[tuple[JournalEntry, list[Event]]] = field(default_factory=list)
    republish: list[JournalEntry] = field(default_factory=list)
    settle: list[BusMessage] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.entries or self.republish or self.settle)


def journal_entry(
    symbol: str, command: dict[str, object], events: list[Event], processed_at: int = 0
) -> JournalEntry:
    return JournalEntry(
        symbol=symbol,
        command_id=str(command["command_id"]),
        first_seq=events[0].seq,
        last_seq=events[-1].seq,
        command=command,
        events=[e.to_dict() for e in events],
        processed_at=processed_at,
    )


MAX_EVENTS_PER_MESSAGE = 256
"""Events of consecutive entries merged into one message, at most (a few hundred bytes each,
so a message stays far below Service Bus's 256 KB; an entry with more travels alone)."""


def batch_messages(
    entries: Sequence[tuple[JournalEntry, Sequence[Event] | None]],
) -> list[BusMessage]:
    """The `executions` messages of consecutive journal entries of one instrument: runs of
    entries merged, in order (events rebuilt from the journal where not given)."""
    messages: list[BusMessage] = []
    run: list[JournalEntry] = []
    events: list[Event] = []
    for entry, given in entries:
        own = list(given) if given is not None else [event_from_dict(e) for e in entry.events]
        if run and len(events) + len(own) > MAX_EVENTS_PER_MESSAGE:
            messages.append(_message(run, events))
            run, events = [], []
        run.append(entry)
        events.extend(own)
    if run:
        messages.append(_message(run, events))
    return messages


def _message(run: list[JournalEntry], events: list[Event]) -> BusMessage:
    first, last = run[0], run[-1]
    processed = tuple((e.first_seq, e.processed_at) for e in run if e.processed_at)
    batch = EventBatch(
        first.symbol, last.command_id, first.first_seq, last.last_seq, tuple(events), processed
    )
    return event_batch_message(batch, tracing.carry(entry.command_id for entry in run))


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
        instruments: InstrumentRepository | None = None,
        venues_queue: str = "venues",
    ) -> None:
        self.symbol = symbol
        self.published_seq = published_seq
        self._journal = journal
        self._bus = bus
        self._queue = executions_queue
        self._receiver = receiver
        self._instruments = instruments
        self._venues_queue = venues_queue

    async def journal(self, entries: list[JournalEntry]) -> list[JournalEntry]:
        """Append the entries; returns them as stored (a retried append finds the first
        one, with its processing time). InstrumentLost if the journal moved under us."""
        if not entries:
            return []
        try:
            stored = await self._journal.append(entries)
        except JournalConflict as error:
            raise InstrumentLost(str(error)) from error
        for ours, theirs in zip(entries, stored, strict=True):
            if ours != theirs:  # another worker journaled this command at other seqs
                raise InstrumentLost(f"{self.symbol}: {ours.command_id} journaled elsewhere")
        return stored

    async def publish(
        self, messages: list[BusMessage], up_to: int, requests: list[BusMessage] | None = None
    ) -> None:
        """Send event batches (and the venue requests among their events, to the venues'
        gateways), then record that everything up to `up_to` is published."""
        if not messages:
            return
        await self._bus.send(self._queue, messages)
        if requests:
            await self._bus.send(self._venues_queue, requests)
        await self._journal.mark_published(self.symbol, up_to)
        self.published_seq = max(self.published_seq, up_to)

    async def publish_entries(
        self, entries: Sequence[tuple[JournalEntry, Sequence[Event] | None]], up_to: int
    ) -> None:
        """`publish` the journal entries' events (rebuilt from the journal where not given)."""
        await self.publish(batch_messages(entries), up_to, await self.venue_requests(entries))

    async def resend_requests(self, events: list[VenueRequestIssued]) -> None:
        """Send requests not answered yet again, flagged as resends: after a recovery a
        request may have been lost on the way (a volatile bus), and the gateway asks the
        venue about each before it sends it (the bus drops a repeat within its window)."""
        if not events or self._instruments is None:
            return
        instrument = await self._instruments.get(self.symbol)
        if instrument is not None:
            await self._bus.send(self._venues_queue, request_messages(events, instrument, True))

    async def venue_requests(
        self, entries: Sequence[tuple[JournalEntry, Sequence[Event] | None]]
    ) -> list[BusMessage]:
        """The gateway messages of the entries' VenueRequestIssued events (issue #18)."""
        events = issued(entries)
        if not events:
            return []
        if self._instruments is None:
            raise RuntimeError(f"{self.symbol}: venue requests but no instruments to size them")
        instrument = await self._instruments.get(self.symbol)
        if instrument is None:
            raise RuntimeError(f"{self.symbol}: venue requests for an unknown instrument")
        return request_messages(events, instrument)

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
        """Make the segment durable in outbox order; the newly journaled events. Traced
        commands get a span for each step, and their contexts travel with their events."""
        entries = [entry for entry, _ in segment.entries]
        with tracing.stage("journal append", traced := stages.journaled(entries)):
            stored = await self.journal(entries)
        with tracing.stage(f"{self._queue} publish", traced, SpanKind.PRODUCER):
            old: list[tuple[JournalEntry, Sequence[Event] | None]] = [
                (entry, None) for entry in segment.republish
            ]
            # As stored: a re-publish (from the journal) then has the very same body.
            new: list[tuple[JournalEntry, Sequence[Event] | None]] = [
                (entry, events) for entry, (_, events) in zip(stored, segment.entries, strict=True)
            ]
            messages = batch_messages(old) + batch_messages(new)
            requests = await self.venue_requests(old + new)
            seqs = [e.last_seq for e in segment.republish] + [e.last_seq for e in entries]
            await self.publish(messages, max(seqs, default=0), requests)
        await self.settle(segment.settle)
        return [event for _, events in segment.entries for event in events]
