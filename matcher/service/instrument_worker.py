"""One session = one instrument: recover it, then process its commands in batches.

Per batch: decode (a body that is not a command is dead-lettered with a reason), skip
commands already journaled or already seen, run the rest through the venue, and flush the
outbox (journal -> publish -> complete). Every command from the queue leaves a journal
entry before its message is completed, one that caused no events too (as a RecordOutcome
answered by NothingChanged, see venue.run_command), so a redelivery, however late, is found
in the journal and skipped, and a crash always redelivers a command onto exactly the state
it first saw.

A command the venue fails on (it raises: a bug, a state it cannot handle) is refused, not
retried: the commands before it are made durable, the venue is rebuilt from the journal
(its state may be half-changed), and the command is journaled as a RecordOutcome with
reason ENGINE_ERROR, which answers a new order with OrderRejected (a cancel or replace with
its rejection). The order ends `rejected` with that reason; a resend finds the entry.

Sharing the slots: a replica holds at most MATCHER_MAX_SESSIONS sessions. While every slot
is taken (`contended()`), a worker gives its session up after a batch once it has held it
`share_after` seconds, or at once when no command is waiting; the session goes behind the
others waiting for a slot, and the book is parked in memory (ParkedBooks), so taking the
session again later costs a journal read, not a recovery. Without contention a worker
keeps its session. So an instrument with commands waits for a slot at most about
(instruments with commands / slots) x `share_after`, however many instruments are busy.

Each journal entry records the wall-clock time the command ran (`processed_at`), outside
the engine's state: the record of when the matcher accepted and filled orders.

Clock ticks (`ExpireOrders`, the GTD expiry and the paper market's clock) are made here,
between batches, with the wall-clock time as their timestamp, and journaled like any command
when they cause events; replay re-runs them from the journal, so it stays exact. A tick that
caused nothing changed nothing that the journal must know, and is not recorded.

The tick after the end of the instrument's trading day (its session's close, 00:00 UTC for a
24-hour market: shared.domain.sessions) is `ExpireOrders(end_of_day=True)`: DAY orders expire.
The worker wakes up for it at the close, and after a restart it ends a day that closed
after the last journaled command (a day ends once: its DAY orders were expired then, or it
caused nothing). The session is read at recovery and again every `session_refresh_every`
seconds, so an admin's change reaches the worker without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from matcher.service.errors import InstrumentLost
from matcher.service.feeds import MatcherFeeds
from matcher.service.outbox import Outbox, Segment, journal_entry
from matcher.service.parked import ParkedBook, ParkedBooks
from matcher.service.recovery import encode_snapshot, recover
from matcher.service.venue import Venue, outcome_record, run_command
from shared.domain import reasons
from shared.domain.commands import Command, ExpireOrders
from shared.domain.events import Event
from shared.domain.sessions import TradingSession, last_close, next_close
from shared.messages import decode_command
from shared.observability import stages, tracing
from shared.ports.bus import Bus, BusMessage, SessionReceiver
from shared.ports.snapshots import SnapshotStore
from shared.ports.store_instruments import InstrumentRepository
from shared.ports.store_journal import JournalEntry, JournalRepository

log = logging.getLogger(__name__)

NS = 1_000_000_000
MALFORMED = "MalformedCommand"
WRONG_SESSION = "WrongSession"


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How a worker batches, snapshots, ticks and keeps its lock."""

    executions_queue: str = "executions"
    venues_queue: str = "venues"  # requests for external venues' gateways (issue #18)
    batch_size: int = 256
    snapshot_every_events: int = 10_000
    snapshot_every_seconds: float = 60.0
    keep_snapshots: int = 3
    tick_every: float | None = 1.0  # seconds between ExpireOrders ticks; None: no ticks
    receive_wait: float = 1.0
    renew_every: float = 10.0  # the session lock lasts 60 s on the queue
    share_after: float = 0.25  # while every slot is taken, hold a session this long at most
    contended_wait: float = 0.02  # while every slot is taken, how long a receive waits
    remember_commands: int = 100_000  # command ids kept in memory to skip duplicates fast
    session_refresh_every: float = 10.0  # seconds between reads of the trading session


class InstrumentWorker:
    """Holds one instrument's venue while its session receiver holds the session lock."""

    def __init__(
        self,
        receiver: SessionReceiver,
        journal: JournalRepository,
        instruments: InstrumentRepository,
        bus: Bus,
        snapshots: SnapshotStore,
        feeds: MatcherFeeds | None,
        config: WorkerConfig,
        clock: Callable[[], int],
        parked: ParkedBooks | None = None,
    ) -> None:
        self.symbol = receiver.session_id
        self._parked = parked
        self._receiver = receiver
        self._journal = journal
        self._instruments = instruments
        self._bus = bus
        self._snapshots = snapshots
        self._feeds = feeds
        self._config = config
        self._clock = clock
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.venue: Venue | None = None
        self._outbox: Outbox | None = None
        self._snapshot_seq = 0
        self._snapshot_at = 0
        self._last_tick = 0
        self._renewed_at = 0
        self.snapshot_failures = 0
        self.session: TradingSession | None = None
        self._session_read_at = 0
        self._day_checked_at = 0  # trading days that ended up to here have been ended

    # ----------------------------------------------------------------- lifecycle

    async def recover(self) -> Venue:
        """Rebuild the venue from the parked book or the latest snapshot, and the journal;
        re-publish."""
        parked = self._parked.take(self.symbol) if self._parked is not None else None
        published = await self._journal.published_seq(self.symbol)
        outbox = Outbox(
            self.symbol,
            self._journal,
            self._bus,
            self._config.executions_queue,
            self._receiver,
            published,
            self._instruments,
            self._config.venues_queue,
        )
        self._renewed_at = self._clock()
        recovered = await recover(
            self.symbol,
            self._journal,
            self._snapshots,
            self._instruments,
            outbox,
            keepalive=self._renew_if_due,
            parked=None if parked is None else (parked.venue, parked.snapshot_seq),
        )
        resumed = parked is not None and recovered.venue is parked.venue
        now = self._clock()
        if resumed:
            assert parked is not None
            self._seen = parked.seen
            self._snapshot_seq, self._snapshot_at = parked.snapshot_seq, parked.snapshot_at
        else:
            self._snapshot_at = now
            self._snapshot_seq = recovered.snapshot_seq
        for command_id in recovered.command_ids:
            self._remember(command_id)
        self.venue, self._outbox = recovered.venue, outbox
        # Tick at once: GTD orders that expired while nobody held the instrument must expire
        # before anything else can trade against them (and DAY orders of a day that closed).
        self._last_tick = 0
        if self._config.tick_every is not None:
            await self._read_session(now)
            self._day_checked_at = await self._last_journaled_ts() or now
        log.log(
            logging.DEBUG if resumed else logging.INFO,
            "%s: %s at seq %d (snapshot %d, %d replayed, %d re-published)",
            self.symbol,
            "resumed" if resumed else "recovered",
            self.venue.seq,
            self._snapshot_seq,
            recovered.replayed,
            recovered.republished,
        )
        if not resumed:  # requests to external venues that may have been lost on the way
            await outbox.resend_requests(self.venue.outstanding_venue_requests())
        if self._snapshot_seq < 0:
            # The first snapshot records how the book was created (fees, simulator seed),
            # so a later change of the reference data cannot make the replay diverge.
            await self.save_snapshot()
        if self._feeds is not None:
            if not resumed:
                await self._feeds.instrument_loaded(self.symbol, self._instruments)
            if not resumed or recovered.replayed:
                self._feeds.book_changed(self.symbol, self.venue, now)
        return self.venue

    async def run(
        self, stopping: asyncio.Event, contended: Callable[[], bool] = lambda: False
    ) -> None:
        """Recover, then process batches until `stopping` is set (the batch in hand is
        finished first; the book is saved) or, while `contended()`, the session is given
        up to another instrument (see the module docstring; the book is parked). Lock loss
        and InstrumentLost propagate: the caller drops this worker."""
        await self.recover()
        held_since = self._clock()
        while not stopping.is_set():
            messages = await self._receiver.receive(
                self._config.batch_size, max_wait=self._receive_wait(contended())
            )
            await self.process(messages)
            now = self._clock()
            if not messages and self._feeds is not None and self.venue is not None:
                self._feeds.idle(self.symbol, self.venue, now)  # marks move with time
            await self._maintain(now)
            if contended() and (
                not messages or (now - held_since) / NS >= self._config.share_after
            ):
                self.park()
                return
        await self.save_snapshot(only_if_changed=True)

    def park(self) -> None:
        """Keep the venue in memory for the next holder of the session in this process
        (only after a clean stop: everything processed is journaled and settled)."""
        if self._parked is not None and self.venue is not None:
            seen = self._seen
            book = ParkedBook(self.venue, self._snapshot_seq, self._snapshot_at, seen)
            self._parked.park(self.symbol, book)

    def _receive_wait(self, contended: bool = False) -> float:
        wait = self._config.contended_wait if contended else self._config.receive_wait
        if self._config.tick_every is not None:
            now = self._clock()
            due = self._config.tick_every - (now - self._last_tick) / NS
            day_ends = (next_close(self.session, self._day_checked_at) - now) / NS
            wait = min(wait, max(min(due, day_ends), 0.0))
        return wait

    async def _read_session(self, now: int) -> None:
        """The instrument's trading session from the store (kept as it was if the read
        fails: trading goes on, the next read may succeed)."""
        self._session_read_at = now
        try:
            instrument = await self._instruments.get(self.symbol)
        except Exception:
            log.warning("%s: reading the trading session failed", self.symbol, exc_info=True)
            return
        self.session = instrument.session if instrument is not None else None

    async def _last_journaled_ts(self) -> int:
        """The timestamp of the last journaled command (0: none)."""
        assert self.venue is not None
        if self.venue.seq == 0:
            return 0
        async for entry in self._journal.read_from(self.symbol, self.venue.seq):
            return int(str(entry.command.get("ts", 0)))
        return 0

    async def _renew_if_due(self) -> None:
        now = self._clock()
        if (now - self._renewed_at) / NS >= self._config.renew_every:
            await self._receiver.renew_lock()
            self._renewed_at = now

    async def _maintain(self, now: int) -> None:
        await self._renew_if_due()
        assert self.venue is not None
        since = self.venue.seq - self._snapshot_seq
        if since >= self._config.snapshot_every_events or (
            since > 0 and (now - self._snapshot_at) / NS >= self._config.snapshot_every_seconds
        ):
            await self.save_snapshot()

    # ----------------------------------------------------------------- snapshots

    async def save_snapshot(self, *, only_if_changed: bool = False) -> None:
        """Save the venue at its seq (everything up to it is journaled) and prune.

        A snapshot is derived from the journal and only shortens the next recovery, so a
        failed save is logged and retried at the next trigger: trading goes on, and the
        journal still holds every event."""
        venue = self.venue
        if venue is None or (only_if_changed and venue.seq == self._snapshot_seq):
            return
        seq, data = venue.seq, encode_snapshot(self.symbol, venue)
        self._snapshot_at = self._clock()
        try:
            await self._snapshots.save(self.symbol, seq, data)
            await self._snapshots.prune(self.symbol, self._config.keep_snapshots)
        except Exception:
            self.snapshot_failures += 1
            log.exception("%s: saving the snapshot at seq %d failed", self.symbol, seq)
            return
        self._snapshot_seq = seq

    # ----------------------------------------------------------------- commands

    def _remember(self, command_id: str) -> None:
        seen = self._seen
        seen[command_id] = None
        if len(seen) > self._config.remember_commands:
            seen.popitem(last=False)

    def _tick(self) -> Command | None:
        every = self._config.tick_every
        if every is None:
            return None
        now = self._clock()
        day_ended = last_close(self.session, self._day_checked_at, now)
        if day_ended is None and (now - self._last_tick) / NS < every:
            return None
        self._last_tick = self._day_checked_at = now
        if day_ended is not None:
            command_id = f"{self.symbol}:close:{day_ended}"
            return ExpireOrders(command_id, now, self.symbol, end_of_day=True)
        return ExpireOrders(f"{self.symbol}:tick:{now}", now, self.symbol)

    async def _decode(self, messages: list[BusMessage]) -> list[tuple[BusMessage, Command]]:
        decoded = []
        for message in messages:
            try:
                command = decode_command(message.body)
            except Exception as error:  # any malformed body: set aside, never crash
                await self._receiver.dead_letter(message, MALFORMED, f"{error!r}"[:1000])
                continue
            if command.symbol != self.symbol:
                await self._receiver.dead_letter(
                    message, WRONG_SESSION, f"{command.symbol} sent on session {self.symbol}"
                )
                continue
            decoded.append((message, command))
        return decoded

    async def _journaled(self, commands: list[Command]) -> dict[str, JournalEntry]:
        """Journal entries of the commands this worker has not seen (redeliveries and late
        duplicates of commands processed before the snapshot or by an earlier worker)."""
        ids = list({c.command_id for c in commands if c.command_id not in self._seen})
        found = await asyncio.gather(*(self._journal.find_by_command(self.symbol, i) for i in ids))
        return {i: e for i, e in zip(ids, found, strict=True) if e is not None}

    async def process(self, messages: list[BusMessage]) -> None:
        """Run one received batch (and a due tick) through the venue and the outbox, in a
        span per traced command; then the batch's metrics."""
        started = time.perf_counter()
        with tracing.consuming_commands(messages, self.symbol):
            oldest = await self._process(messages)
        stages.matcher_batch(self.symbol, len(messages), started, oldest, self._clock())

    async def _process(self, messages: list[BusMessage]) -> int:
        """`process` itself; returns the timestamp of the batch's oldest command (0: none)."""
        venue, outbox = self.venue, self._outbox
        assert venue is not None and outbox is not None
        items: list[tuple[BusMessage | None, Command]] = []
        now = self._clock()
        every = self._config.session_refresh_every
        if self._config.tick_every is not None and (now - self._session_read_at) / NS >= every:
            await self._read_session(now)
        tick = self._tick()
        if tick is not None:
            items.append((None, tick))
        items += await self._decode(messages)
        oldest = min((c.ts for m, c in items if m is not None), default=0)
        journaled = await self._journaled([c for m, c in items if m is not None])
        segment = Segment()
        events: list[Event] = []
        for message, command in items:
            if message is not None and self._skip(message, command, journaled, segment):
                continue
            out: list[Event] = []
            try:
                recorded = run_command(venue, command, out, queued=message is not None)
            except Exception as error:
                events += await outbox.flush(segment)  # the commands before it: durable
                segment = Segment()
                recorded, out = await self._refuse(command, error)
                venue, outbox = self.venue, self._outbox
                assert venue is not None and outbox is not None
            self._remember(command.command_id)
            if out:
                # The wall clock goes into the journal entry beside the events, never into
                # the engine: it records when the matcher acted (latency analytics).
                entry = journal_entry(self.symbol, recorded.to_dict(), out, self._clock())
                segment.entries.append((entry, out))
            if message is not None:
                segment.settle.append(message)
        if segment:
            events += await outbox.flush(segment)
        if events and self._feeds is not None:
            self._feeds.events(self.symbol, events, venue, self._clock())
        return oldest

    def _skip(
        self,
        message: BusMessage,
        command: Command,
        journaled: dict[str, JournalEntry],
        segment: Segment,
    ) -> bool:
        """True for a command processed before: complete it (re-publish if needed)."""
        assert self.venue is not None and self._outbox is not None
        command_id = command.command_id
        if command_id in self._seen:
            segment.settle.append(message)
            return True
        entry = journaled.get(command_id)
        if entry is None:
            return False
        if entry.last_seq > self.venue.seq:
            raise InstrumentLost(f"{self.symbol}: {command_id} was journaled by another worker")
        if entry.last_seq > self._outbox.published_seq:
            segment.republish.append(entry)
        self._remember(command_id)
        segment.settle.append(message)
        return True

    async def _refuse(self, command: Command, error: Exception) -> tuple[Command, list[Event]]:
        """The venue raised on `command` (everything before it is durable): rebuild the
        venue from the journal, since its state may be half-changed, and answer the command
        with its refusal instead; the record to journal and its events."""
        log.error(
            "%s: the venue failed on %r; it is refused (%s)",
            self.symbol,
            command,
            reasons.ENGINE_ERROR,
            exc_info=error,
        )
        self.venue = None
        venue = await self.recover()
        record = outcome_record(command, reasons.ENGINE_ERROR)
        out: list[Event] = []
        venue.handle(record, out)
        return record, out
