"""One session = one instrument: recover it, then process its commands in batches.

Per batch: decode (a body that is not a command is dead-lettered with a reason), skip
commands already journaled or already seen, run the rest through the venue, and flush the
outbox (journal -> publish -> complete). A command that caused no events leaves no journal
entry; its only record is its completed message, so the segment is flushed (and the message
completed) before a later command's entry is journaled. A crash therefore always redelivers
a command onto exactly the state it first saw.

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
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from matcher.service.errors import InstrumentLost
from matcher.service.feeds import MatcherFeeds
from matcher.service.outbox import Outbox, Segment, journal_entry
from matcher.service.recovery import encode_snapshot, recover
from matcher.service.venue import Venue
from shared.domain.commands import Command, ExpireOrders
from shared.domain.events import Event
from shared.domain.sessions import TradingSession, last_close, next_close
from shared.messages import decode_command
from shared.ports.bus import Bus, BusMessage, SessionReceiver
from shared.ports.snapshots import SnapshotStore
from shared.ports.store_instruments import InstrumentRepository
from shared.ports.store_journal import JournalEntry, JournalRepository

log = logging.getLogger(__name__)

NS = 1_000_000_000
MALFORMED = "MalformedCommand"
WRONG_SESSION = "WrongSession"
ENGINE_ERROR = "EngineError"


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How a worker batches, snapshots, ticks and keeps its lock."""

    executions_queue: str = "executions"
    batch_size: int = 256
    snapshot_every_events: int = 10_000
    snapshot_every_seconds: float = 60.0
    keep_snapshots: int = 3
    tick_every: float | None = 1.0  # seconds between ExpireOrders ticks; None: no ticks
    receive_wait: float = 1.0
    renew_every: float = 10.0  # the session lock lasts 60 s on the queue
    idle_release: float = 30.0  # give the session up when idle this long and asked to
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
    ) -> None:
        self.symbol = receiver.session_id
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
        self._active_at = 0
        self.snapshot_failures = 0
        self.session: TradingSession | None = None
        self._session_read_at = 0
        self._day_checked_at = 0  # trading days that ended up to here have been ended

    # ----------------------------------------------------------------- lifecycle

    async def recover(self) -> Venue:
        """Rebuild the venue from the latest snapshot and the journal; re-publish."""
        published = await self._journal.published_seq(self.symbol)
        outbox = Outbox(
            self.symbol,
            self._journal,
            self._bus,
            self._config.executions_queue,
            self._receiver,
            published,
        )
        self._renewed_at = self._clock()
        recovered = await recover(
            self.symbol,
            self._journal,
            self._snapshots,
            self._instruments,
            outbox,
            keepalive=self._renew_if_due,
        )
        for command_id in recovered.command_ids:
            self._remember(command_id)
        self.venue, self._outbox = recovered.venue, outbox
        now = self._clock()
        self._snapshot_seq, self._snapshot_at = recovered.snapshot_seq, now
        # Tick at once: GTD orders that expired while nobody held the instrument must expire
        # before anything else can trade against them (and DAY orders of a day that closed).
        self._last_tick, self._active_at = 0, now
        if self._config.tick_every is not None:
            await self._read_session(now)
            self._day_checked_at = await self._last_journaled_ts() or now
        log.info(
            "%s: recovered at seq %d (snapshot %d, %d replayed, %d re-published)",
            self.symbol,
            self.venue.seq,
            recovered.snapshot_seq,
            recovered.replayed,
            recovered.republished,
        )
        if recovered.snapshot_seq < 0:
            # The first snapshot records how the book was created (fees, simulator seed),
            # so a later change of the reference data cannot make the replay diverge.
            await self.save_snapshot()
        if self._feeds is not None:
            await self._feeds.instrument_loaded(self.symbol, self._instruments)
            self._feeds.book_changed(self.symbol, self.venue, now)
        return self.venue

    async def run(
        self, stopping: asyncio.Event, release_idle: Callable[[], bool] = lambda: False
    ) -> None:
        """Recover, then process batches until `stopping` is set (the batch in hand is
        finished first) or the session has been idle long enough and `release_idle()`.
        Lock loss and InstrumentLost propagate: the caller drops this worker."""
        await self.recover()
        while not stopping.is_set():
            messages = await self._receiver.receive(
                self._config.batch_size, max_wait=self._receive_wait()
            )
            await self.process(messages)
            now = self._clock()
            if messages:
                self._active_at = now
            elif (now - self._active_at) / NS >= self._config.idle_release and release_idle():
                break
            await self._maintain(now)
        await self.save_snapshot(only_if_changed=True)

    def _receive_wait(self) -> float:
        wait = self._config.receive_wait
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
        """Run one received batch (and a due tick) through the venue and the outbox."""
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
        journaled = await self._journaled([c for m, c in items if m is not None])
        segment = Segment()
        events: list[Event] = []
        for message, command in items:
            if message is not None and self._skip(message, command, journaled, segment):
                continue
            out: list[Event] = []
            try:
                venue.handle(command, out)
            except Exception as error:
                await self._engine_failed(segment, message, command, error)
            self._remember(command.command_id)
            if out:
                if segment.unrecorded:
                    events += await outbox.flush(segment)
                    segment = Segment()
                segment.entries.append((journal_entry(self.symbol, command.to_dict(), out), out))
            elif message is not None:
                segment.unrecorded = True
            if message is not None:
                segment.settle.append(message)
        if segment:
            events += await outbox.flush(segment)
        if events and self._feeds is not None:
            self._feeds.events(self.symbol, events, venue, self._clock())

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

    async def _engine_failed(
        self, segment: Segment, message: BusMessage | None, command: Command, error: Exception
    ) -> None:
        """The venue raised: its state may be half-changed. Make the commands before it
        durable, set the command aside, and drop this worker (recovery rebuilds the venue)."""
        assert self._outbox is not None
        await self._outbox.flush(segment)
        log.error("%s: the venue failed on %r", self.symbol, command, exc_info=error)
        if message is not None:
            await self._receiver.dead_letter(message, ENGINE_ERROR, f"{error!r}"[:1000])
        raise InstrumentLost(f"{self.symbol}: venue failed on {command.command_id}") from error
