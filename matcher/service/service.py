"""The matcher service: up to MATCHER_MAX_SESSIONS instrument sessions at once.

Each slot accepts the next free session of `orders` (one session = one instrument), runs an
InstrumentWorker on it until shutdown, a lost lock, or (while every slot is busy) its turn
is over, then closes the receiver and accepts again: the slots take turns, so an instrument
with commands never waits for a busy one to go idle (see InstrumentWorker). A book whose
turn is over stays in memory (`parked`), and its next turn starts from it. A lost lock or
InstrumentLost only drops that instrument's memory: the session comes back and recovery
starts from the journal.
ReplayDivergence is fatal: the service stops and `run_until_stopped` raises it.

Dependencies come in through the constructor, so the one-command local run can run the
service in-process on the shared in-memory bus; `python -m matcher` builds them from settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from matcher.service.errors import InstrumentLost, ReplayDivergence
from matcher.service.feeds import BookSink, MatcherFeeds, cache_book_sink, cache_mark_sink
from matcher.service.instrument_worker import InstrumentWorker, WorkerConfig
from matcher.service.parked import ParkedBooks
from shared.config.settings import Settings
from shared.feeds import FeedPublisher
from shared.ports.bus import (
    Bus,
    BusError,
    MessageLockLostError,
    SessionLockLostError,
    SessionReceiver,
)
from shared.ports.cache import Cache
from shared.ports.notifier import Notifier
from shared.ports.snapshots import SnapshotStore
from shared.ports.store import Store

log = logging.getLogger(__name__)

_RELEASED, _LOST, _FAILED = "released", "lost", "failed"

Clock = Callable[[], int]
"""Wall-clock time in ns since the epoch: tick timestamps and the service's timers."""


def worker_config(settings: Settings, **overrides: object) -> WorkerConfig:
    """The worker settings from the app settings (keyword arguments override)."""
    values: dict[str, object] = {
        "executions_queue": settings.EXECUTIONS_QUEUE,
        "venues_queue": settings.VENUES_QUEUE,
        "batch_size": settings.MATCHER_BATCH_SIZE,
        "snapshot_every_events": settings.MATCHER_SNAPSHOT_EVERY_EVENTS,
        "snapshot_every_seconds": settings.MATCHER_SNAPSHOT_EVERY_SECONDS,
    }
    values.update(overrides)
    return WorkerConfig(**values)  # type: ignore[arg-type]


class MatcherService:
    """Runs instrument workers on sessions of the orders queue."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        snapshots: SnapshotStore,
        notifier: Notifier | None,
        settings: Settings,
        clock: Clock = time.time_ns,
        *,
        cache: Cache | None = None,
        book_sink: BookSink | None = None,
        config: WorkerConfig | None = None,
        accept_wait: float = 2.0,
    ) -> None:
        self._store = store
        self._bus = bus
        self._snapshots = snapshots
        self._settings = settings
        self._clock = clock
        self.config = config or worker_config(settings)
        self._accept_wait = accept_wait
        self._slots = max(1, settings.MATCHER_MAX_SESSIONS)
        publisher = FeedPublisher(notifier) if notifier is not None else None
        if book_sink is None and cache is not None:
            book_sink = cache_book_sink(cache)
        mark_sink = None if cache is None else cache_mark_sink(cache)
        self.feeds = MatcherFeeds(publisher, book_sink, mark_sink=mark_sink)
        self.workers: dict[str, InstrumentWorker] = {}  # symbol -> worker holding it
        self.parked = ParkedBooks()  # books whose session went to another instrument
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._feeds_task: asyncio.Task[None] | None = None
        self._fatal: BaseException | None = None
        self._started = False
        self._stop_started = False

    @property
    def healthy(self) -> bool:
        """Started, not shutting down, no fatal error."""
        return self._started and not self._stopping.is_set() and self._fatal is None

    async def start(self) -> None:
        """Start the session slots and the feed sender; returns at once."""
        if self._started:
            raise RuntimeError("the matcher service is already started")
        self._started = True
        self._feeds_task = asyncio.create_task(self.feeds.run(), name="matcher-feeds")
        self._tasks = [
            asyncio.create_task(self._slot(i), name=f"matcher-slot-{i}") for i in range(self._slots)
        ]
        log.info("matcher started with %d session slots", self._slots)

    def request_stop(self) -> None:
        """Ask for a graceful shutdown (safe from a signal handler); `stop()` waits for it."""
        self._stopping.set()

    async def stop(self) -> None:
        """Graceful shutdown: each worker finishes its batch, saves a snapshot if its book
        moved, and releases its session; then the feeds still queued go out. Idempotent."""
        self._stopping.set()
        if self._stop_started:
            await self._stopped.wait()
            return
        self._stop_started = True
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._feeds_task is not None:
            self._feeds_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._feeds_task
            await self.feeds.drain()
        self._stopped.set()
        log.info("matcher stopped")

    async def run_until_stopped(self) -> None:
        """Run until a stop is requested (or a fatal error), shut down gracefully, and
        raise the fatal error if there was one."""
        await self._stopping.wait()
        await self.stop()
        if self._fatal is not None:
            raise self._fatal

    def _all_busy(self) -> bool:
        return len(self.workers) >= self._slots

    async def _slot(self, index: int) -> None:
        backoff = 0.0
        retake: str | None = None
        while not self._stopping.is_set():
            if backoff:
                await self._sleep(backoff)
            try:
                # After a failure, take the same instrument back at once (if no one else
                # did): recovery re-publishes what was journaled, ticks included, even when
                # no command is waiting to bring the session back.
                receiver = await self._bus.accept_session(
                    self._settings.ORDERS_QUEUE,
                    retake,
                    max_wait=0.0 if retake else self._accept_wait,
                )
            except BusError:
                log.warning("slot %d: accepting a session failed", index, exc_info=True)
                backoff = min(max(backoff * 2, 0.5), 30.0)
                retake = None
                continue
            retake = None
            if receiver is None:
                continue
            outcome = await self._hold(receiver)
            if outcome == _RELEASED:
                backoff = 0.0
            else:
                retake = receiver.session_id
                backoff = 0.0 if outcome == _LOST else min(max(backoff * 2, 0.5), 30.0)

    async def _hold(self, receiver: SessionReceiver) -> str:
        """Run a worker on an accepted session: _RELEASED, _LOST or _FAILED."""
        worker = InstrumentWorker(
            receiver,
            self._store.journal,
            self._store.instruments,
            self._bus,
            self._snapshots,
            self.feeds,
            self.config,
            self._clock,
            self.parked,
        )
        symbol = worker.symbol
        self.workers[symbol] = worker
        outcome = _RELEASED
        try:
            await worker.run(self._stopping, self._all_busy)
        except (SessionLockLostError, MessageLockLostError, InstrumentLost) as error:
            outcome = _LOST
            self.parked.drop(symbol)  # whatever it held is no longer known to be current
            log.info(
                "%s: session given up (%s); recovery will start from the journal", symbol, error
            )
        except ReplayDivergence as error:
            log.critical("%s: %s", symbol, error)
            self._fatal = error
            self._stopping.set()
        except Exception:
            log.exception("%s: the worker failed; the session will be recovered", symbol)
            self.parked.drop(symbol)
            outcome = _FAILED
        finally:
            # After a lost lock another slot may hold this symbol now: remove only our own.
            if self.workers.get(symbol) is worker:
                del self.workers[symbol]
            with contextlib.suppress(Exception):
                await receiver.close()
        return outcome

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
