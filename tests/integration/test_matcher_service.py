"""The matcher service as the local run hosts it: in-process on the in-memory bus, SQLite,
a snapshot folder and a notifier, driven only through the `orders` queue."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from matcher.service.errors import ReplayDivergence
from matcher.service.service import MatcherService, worker_config
from shared.adapters.bus_memory import InMemoryBus
from shared.adapters.snapshots_local import FolderSnapshotStore
from shared.adapters.sqlite.store import open_sqlite_store
from shared.config.settings import Settings
from shared.domain.commands import NewOrder
from shared.messages import command_message, decode_event_batch
from shared.ports.bus import BusMessage
from shared.ports.store import Store
from shared.ports.store_journal import JournalEntry
from shared.runtime.health import HealthServer
from tests.integration.test_matcher_support import (
    EXECUTIONS,
    ORDERS,
    T0,
    check_published,
    drain_executions,
    journal_of,
    make_bus,
    random_commands,
    recovered_hash,
    reference,
    send_commands,
)

ROOT = Path(__file__).resolve().parents[2]


class RecordingNotifier:
    """Keeps what the service sends to SignalR groups."""

    def __init__(self) -> None:
        self.groups: list[tuple[str, str, dict[str, Any]]] = []

    async def send_to_group(self, group: str, target: str, args: Any) -> None:
        self.groups.append((group, target, args[0]))

    def data(self, group: str) -> list[dict[str, Any]]:
        return [envelope["data"] for g, _, envelope in self.groups if g == group]

    async def send_to_user(self, user_id: str, target: str, args: Any) -> None: ...
    async def send_to_all(self, target: str, args: Any) -> None: ...
    async def add_user_to_group(self, user_id: str, group: str) -> None: ...
    async def remove_user_from_group(self, user_id: str, group: str) -> None: ...
    async def add_connection_to_group(self, connection_id: str, group: str) -> None: ...
    async def remove_connection_from_group(self, connection_id: str, group: str) -> None: ...
    async def client_access(self, user_id: str) -> Any: ...


class ManualNs:
    """A wall clock in ns that the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "OMS_DATA_DIR": tmp_path,
        "MATCHER_MAX_SESSIONS": 4,
        "MATCHER_BATCH_SIZE": 16,
        "MATCHER_SNAPSHOT_EVERY_EVENTS": 40,
    }
    values.update(overrides)
    return Settings(**values)


def make_service(
    store: Store,
    bus: Any,
    tmp_path: Path,
    *,
    notifier: Any = None,
    snapshots: Any = None,
    clock: Callable[[], int] = time.time_ns,
    book_sink: Any = None,
    app: Settings | None = None,
    **config: Any,
) -> MatcherService:
    app = app or settings(tmp_path)
    values = {"tick_every": None, "receive_wait": 0.02, "share_after": 3600.0}
    values.update(config)
    return MatcherService(
        store,
        bus,
        snapshots or FolderSnapshotStore(tmp_path / "snapshots"),
        notifier,
        app,
        clock,
        book_sink=book_sink,
        config=worker_config(app, **values),
        accept_wait=0.02,
    )


def unsettled(bus: InMemoryBus, queue: str = ORDERS) -> int:
    """Messages still on the queue or locked (peeks into the in-memory bus)."""
    q = bus._queues[queue]
    return sum(len(s.pending) + len(s.inflight) for s in q.sessions.values())


async def eventually(check: Callable[[], Any], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    s = await open_sqlite_store(":memory:")
    yield s
    await s.close()


def last_seq(journal: list[tuple[str, list[dict[str, object]]]]) -> int:
    return int(str(journal[-1][1][-1]["seq"])) if journal else 0


def matches(journal: list[tuple[str, list[dict[str, object]]]]) -> int:
    """Trades in a journal: maker fills (each match has exactly one)."""
    return sum(
        1
        for _, events in journal
        for e in events
        if e["kind"] == "order_filled"
        and e["liquidity"] == "maker"
        and e["trade_seq"] == e["seq"]
        and any(
            o["kind"] == "order_filled" and o["trade_seq"] == e["seq"] and o["liquidity"] == "taker"
            for o in events
        )
    )


async def test_the_service_matches_several_instruments_and_publishes_events_and_feeds(
    store: Store, tmp_path: Path
) -> None:
    symbols = ("AAA", "BBB", "CCC")
    commands = random_commands(7, 300, symbols)
    expected = reference(commands)
    bus = make_bus()
    notifier = RecordingNotifier()
    books: dict[str, Mapping[str, object]] = {}

    async def book_sink(symbol: str, book: Mapping[str, object]) -> None:
        books[symbol] = book

    service = make_service(store, bus, tmp_path, notifier=notifier, book_sink=book_sink)
    await service.start()
    await send_commands(bus, commands)
    await eventually(lambda: unsettled(bus) == 0)
    for symbol, (journal, _) in expected.items():
        final = last_seq(journal)

        def cached(s: str = symbol, f: int = final) -> bool:
            return books.get(s, {}).get("seq") == f

        def fed(s: str = symbol, f: int = final) -> bool:
            # The book feed is conflated, but its latest book always goes out.
            return (notifier.data(f"book:{s}") or [{}])[-1].get("seq") == f

        await eventually(cached)
        await eventually(fed)
    await service.stop()
    published = await drain_executions(bus, symbols)
    for symbol, (journal, state_hash) in expected.items():
        assert await journal_of(store, symbol) == journal
        check_published(published, journal, symbol)
        assert await recovered_hash(store, tmp_path / "snapshots", symbol) == state_hash
        trades = notifier.data(f"trades:{symbol}")
        assert len(trades) == matches(journal) > 0
        assert {t["aggressor_side"] for t in trades} <= {"buy", "sell"}
        assert all(t["trade_id"] == f"{symbol}-T{t['seq']}" for t in trades)
        book = books[symbol]
        assert set(book) == {"symbol", "seq", "ts", "bids", "asks"}  # the cache's shape
        bids = book["bids"]
        assert isinstance(bids, list) and all(len(level) == 3 for level in bids)
    assert service.workers == {}  # every session released


async def test_poison_messages_go_to_the_dead_letter_queue_with_a_reason_and_trading_goes_on(
    store: Store, tmp_path: Path
) -> None:
    bus = make_bus()
    good = random_commands(3, 20, ("AAA",))
    wrong = NewOrder("w1", T0, "BBB", "ow", "a", "buy", "limit", "gtc", 1, 100)
    await bus.send(
        ORDERS,
        [
            BusMessage(b"{not json", "p1", "AAA"),
            BusMessage(orjson.dumps({"kind": "new_order", "symbol": "AAA"}), "p2", "AAA"),
            BusMessage(orjson.dumps(wrong.to_dict()), "p3", "AAA"),
            *(command_message(c) for c in good),
        ],
    )
    service = make_service(store, bus, tmp_path)
    await service.start()
    await eventually(lambda: unsettled(bus) == 0)
    await service.stop()
    dead = await bus.dead_letters(ORDERS)
    assert [(d.message.message_id, d.reason) for d in dead] == [
        ("p1", "MalformedCommand"),
        ("p2", "MalformedCommand"),
        ("p3", "WrongSession"),
    ]
    assert all(d.description for d in dead)
    assert await journal_of(store, "AAA") == reference(good)["AAA"][0]
    assert await store.journal.last_seq("BBB") == 0  # never applied to the wrong book


async def test_commands_sent_again_after_a_restart_are_not_applied_twice(
    store: Store, tmp_path: Path
) -> None:
    commands = random_commands(11, 120, ("AAA", "BBB"))
    bus = make_bus()
    bus._queues[ORDERS].options = bus._queues[ORDERS].options.__class__(
        requires_session=True, duplicate_detection_window=None
    )  # a resend after the duplicate-detection window: the bus lets it through
    first = make_service(store, bus, tmp_path)
    await first.start()
    await send_commands(bus, commands)
    await eventually(lambda: unsettled(bus) == 0)
    await first.stop()
    published_before = await drain_executions(bus, ("AAA", "BBB"))

    second = make_service(store, bus, tmp_path)  # a fresh process: nothing in memory
    await second.start()
    await send_commands(bus, commands)
    await eventually(lambda: unsettled(bus) == 0)
    await second.stop()
    for symbol, (journal, state_hash) in reference(commands).items():
        assert await journal_of(store, symbol) == journal
        check_published(published_before, journal, symbol)
        assert await recovered_hash(store, tmp_path / "snapshots", symbol) == state_hash
    assert unsettled(bus, EXECUTIONS) == 0  # nothing new was published


class GatedJournal:
    """Holds every append until the test opens the gate."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def append(self, entries: Sequence[JournalEntry]) -> list[JournalEntry]:
        self.entered.set()
        await self.gate.wait()
        return list(await self.inner.append(entries))


async def test_graceful_shutdown_finishes_the_batch_in_hand_then_releases_the_session(
    store: Store, tmp_path: Path
) -> None:
    journal = GatedJournal(store.journal)
    gated = dataclasses.replace(store, journal=journal)
    commands = random_commands(5, 10, ("AAA",))
    bus = make_bus()
    await send_commands(bus, commands)
    service = make_service(gated, bus, tmp_path, app=settings(tmp_path, MATCHER_BATCH_SIZE=4))
    await service.start()
    await journal.entered.wait()
    stopping = asyncio.create_task(service.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()  # waits for the batch in hand
    assert not service.healthy
    journal.gate.set()
    await asyncio.wait_for(stopping, 10)
    # The batch in hand (4 commands) is journaled, published and completed; nothing more.
    first_four = reference(commands[:4])["AAA"][0]
    assert await journal_of(store, "AAA") == first_four
    assert await store.journal.published_seq("AAA") == last_seq(first_four)
    assert unsettled(bus) == 6 and service.workers == {}  # released for the next owner
    latest = await FolderSnapshotStore(tmp_path / "snapshots").latest("AAA")
    assert latest is not None and latest[0] == last_seq(first_four)
    successor = make_service(store, bus, tmp_path)
    await successor.start()
    await eventually(lambda: unsettled(bus) == 0)
    await successor.stop()
    assert await journal_of(store, "AAA") == reference(commands)["AAA"][0]


async def test_gtd_orders_expire_on_the_matchers_clock_and_the_journal_replays_the_tick(
    store: Store, tmp_path: Path
) -> None:
    clock = ManualNs()
    bus = make_bus()
    gtd = NewOrder("g1", T0, "AAA", "og", "a", "buy", "limit", "gtd", 5, 100, 0, T0 + 2 * 10**9)
    gtc = NewOrder("g2", T0, "AAA", "ok", "b", "sell", "limit", "gtc", 5, 101)
    service = make_service(store, bus, tmp_path, clock=clock, tick_every=1.0)
    await service.start()
    await send_commands(bus, [gtd, gtc])
    await eventually(lambda: unsettled(bus) == 0)
    clock.now += 1 * 10**9  # not yet due: a tick finds nothing to expire, journals nothing
    await asyncio.sleep(0.1)
    assert len(await journal_of(store, "AAA")) == 2
    clock.now += 2 * 10**9
    await eventually(lambda: store.journal.last_seq("AAA"), timeout=5)

    async def expired() -> bool:
        entries = [e async for e in store.journal.read_from("AAA", 1)]
        return len(entries) == 3

    await eventually(expired)
    entries = [e async for e in store.journal.read_from("AAA", 1)]
    tick = entries[-1]
    assert tick.command["kind"] == "expire_orders" and tick.command["ts"] == clock.now
    assert [e["kind"] for e in tick.events] == ["order_expired"]
    assert tick.events[0]["order_id"] == "og"
    held = service.workers["AAA"].venue
    assert held is not None
    live_hash = held.state_hash()
    await eventually(lambda: store.journal.published_seq("AAA"))
    await service.stop()
    published = await drain_executions(bus, ("AAA",))
    # the two orders' entries in one message, the tick's (a later batch) in its own
    assert [m for m, _ in published.batches["AAA"]] == ["AAA:1-2", "AAA:3-3"]
    # A restart that only has the journal (no snapshot after the tick) ends in the same state.
    empty = tmp_path / "no-snapshots"
    empty.mkdir()
    assert await recovered_hash(store, empty, "AAA") == live_hash


class BrokenSnapshots(FolderSnapshotStore):
    async def save(self, symbol: str, seq: int, data: bytes) -> None:
        raise OSError("blob storage is down")


async def test_a_failing_snapshot_store_does_not_stop_trading(store: Store, tmp_path: Path) -> None:
    commands = random_commands(9, 150, ("AAA",))
    bus = make_bus()
    service = make_service(store, bus, tmp_path, snapshots=BrokenSnapshots(tmp_path / "x"))
    await service.start()
    await send_commands(bus, commands)
    await eventually(lambda: unsettled(bus) == 0)
    failures = service.workers["AAA"].snapshot_failures
    await service.stop()
    assert failures > 0
    assert await journal_of(store, "AAA") == reference(commands)["AAA"][0]


async def test_a_journal_that_disagrees_with_the_engine_stops_the_service_loudly(
    store: Store, tmp_path: Path
) -> None:
    order = NewOrder("c1", T0, "AAA", "o1", "a", "buy", "limit", "gtc", 5, 100)
    await store.journal.append(
        [
            JournalEntry(
                "AAA",
                "c1",
                1,
                1,
                order.to_dict(),
                [{"kind": "order_rejected", "symbol": "AAA", "seq": 1, "ts": T0}],
            )
        ]
    )
    bus = make_bus()
    await send_commands(bus, random_commands(1, 3, ("AAA",)))
    service = make_service(store, bus, tmp_path)
    await service.start()
    with pytest.raises(ReplayDivergence):
        await asyncio.wait_for(service.run_until_stopped(), 10)
    assert not service.healthy
    assert unsettled(bus) == 3  # nothing was processed on top of a journal it cannot trust
    assert await store.journal.last_seq("AAA") == 1


async def test_an_idle_session_makes_way_when_every_slot_is_busy_and_is_kept_otherwise(
    store: Store, tmp_path: Path
) -> None:
    bus = make_bus()
    one_slot = settings(tmp_path, MATCHER_MAX_SESSIONS=1)
    service = make_service(store, bus, tmp_path, app=one_slot, share_after=0.2)
    await service.start()
    await send_commands(bus, random_commands(2, 5, ("AAA",)))
    await eventually(lambda: unsettled(bus) == 0)
    assert set(service.workers) == {"AAA"}
    await send_commands(bus, random_commands(3, 5, ("BBB",)))
    await eventually(lambda: unsettled(bus) == 0)  # AAA went idle and gave its slot up
    assert await store.journal.last_seq("BBB") > 0
    await service.stop()

    roomy = make_service(store, bus, tmp_path, share_after=0.05)  # 4 slots
    await roomy.start()
    await send_commands(bus, random_commands(4, 5, ("CCC",)))
    await eventually(lambda: unsettled(bus) == 0)
    await asyncio.sleep(0.3)
    assert set(roomy.workers) == {"CCC"}  # idle, but no one waits for the slot: kept
    await roomy.stop()


async def _http_get(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data


async def test_health_is_200_while_running_and_503_once_shutting_down(
    store: Store, tmp_path: Path
) -> None:
    service = make_service(store, make_bus(), tmp_path)
    health = HealthServer(lambda: service.healthy, "127.0.0.1", 0)
    await health.start()
    assert (await _http_get(health.port)).startswith(b"HTTP/1.1 503")  # not started yet
    await service.start()
    assert (await _http_get(health.port)).startswith(b"HTTP/1.1 200")
    # a bare TCP probe (connect, close) does not disturb it
    _, writer = await asyncio.open_connection("127.0.0.1", health.port)
    writer.close()
    service.request_stop()
    assert (await _http_get(health.port)).startswith(b"HTTP/1.1 503")
    await service.stop()
    await health.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_python_m_matcher_serves_health_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SERVICEBUS_", "MONGODB_", "SIGNALR_", "SNAPSHOTS_"))
    }
    env.update({"OMS_DATA_DIR": str(tmp_path), "MATCHER_HEALTH_PORT": str(port)})
    process = subprocess.Popen(
        [sys.executable, "-m", "matcher"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        answer = b""
        while time.monotonic() < deadline and not answer.startswith(b"HTTP/1.1 200"):
            with contextlib.suppress(OSError):
                answer = asyncio.run(_http_get(port))
            time.sleep(0.1)
        assert answer.startswith(b"HTTP/1.1 200")
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
        assert process.returncode == 0, out.decode()
        assert b"matcher stopped" in out
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_the_latest_book_of_each_instrument_lands_in_the_cache(
    store: Store, tmp_path: Path
) -> None:
    from shared.adapters.cache_memory import MemoryCache
    from shared.ports.cache import book_key

    cache = MemoryCache()
    commands = random_commands(8, 60, ("AAA",))
    bus = make_bus()
    app = settings(tmp_path)
    service = MatcherService(
        store,
        bus,
        FolderSnapshotStore(tmp_path / "snapshots"),
        None,
        app,
        cache=cache,
        config=worker_config(app, tick_every=None, receive_wait=0.02),
        accept_wait=0.02,
    )
    await service.start()
    await send_commands(bus, commands)
    await eventually(lambda: unsettled(bus) == 0)
    final = last_seq(reference(commands)["AAA"][0])

    async def cached() -> bool:
        raw = await cache.get(book_key("AAA"))
        return raw is not None and orjson.loads(raw)["seq"] == final

    await eventually(cached)
    await service.stop()


class FailingOnce:
    """A bus whose next send to `executions` fails (after the journal append)."""

    def __init__(self, inner: InMemoryBus) -> None:
        self.inner = inner
        self.fail_next = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def send(self, queue: str, messages: Any) -> None:
        if queue == EXECUTIONS and self.fail_next:
            self.fail_next = False
            raise RuntimeError("executions unavailable")
        await self.inner.send(queue, messages)


async def test_a_tick_journaled_but_not_published_is_published_without_waiting_for_a_command(
    store: Store, tmp_path: Path
) -> None:
    clock = ManualNs()
    bus = FailingOnce(make_bus())
    service = make_service(store, bus, tmp_path, clock=clock, tick_every=1.0)
    await service.start()
    gtd = NewOrder("g1", T0, "AAA", "og", "a", "buy", "limit", "gtd", 5, 100, 0, T0 + 10**9)
    await send_commands(bus, [gtd])
    await eventually(lambda: store.journal.published_seq("AAA"))
    bus.fail_next = True
    clock.now += 2 * 10**9  # the tick expires the order; publishing its event fails

    async def all_published() -> bool:
        last = await store.journal.last_seq("AAA")
        return last == 2 and await store.journal.published_seq("AAA") == 2

    await eventually(all_published)
    assert not bus.fail_next
    await service.stop()
    published = await drain_executions(bus.inner, ("AAA",))
    assert [m for m, _ in published.batches["AAA"]] == ["AAA:1-1", "AAA:2-2"]


async def test_a_held_session_keeps_its_lock_past_the_lock_duration(
    store: Store, tmp_path: Path
) -> None:
    from shared.adapters.bus_faults import ManualClock

    bus_clock, clock = ManualClock(), ManualNs()
    bus = make_bus()
    bus._clock = bus_clock  # lock expiry follows the test's clock (60 s locks)
    service = make_service(store, bus, tmp_path, clock=clock)
    await service.start()
    await send_commands(bus, random_commands(2, 5, ("AAA",)))
    await eventually(lambda: unsettled(bus) == 0)
    worker = service.workers["AAA"]
    for _ in range(6):  # two minutes: twice the lock duration
        bus_clock.advance(20)
        clock.now += 20 * 10**9
        await asyncio.sleep(0.1)  # a few loop turns: receive, renew
    await send_commands(bus, random_commands(3, 5, ("AAA",)))
    await eventually(lambda: unsettled(bus) == 0)
    assert service.workers["AAA"] is worker  # never lost the session, never re-recovered
    await service.stop()


async def test_busy_instruments_take_turns_so_one_more_is_answered_and_books_stay_exact(
    store: Store, tmp_path: Path
) -> None:
    """Four times as many busy instruments as slots, none ever idle: an instrument with a
    command still gets a slot, and the books that gave theirs up (parked in memory) end in
    exactly the state of one uninterrupted run."""
    bus = make_bus()
    two_slots = settings(tmp_path, MATCHER_MAX_SESSIONS=2)
    service = make_service(store, bus, tmp_path, app=two_slots, share_after=0.05)
    busy = tuple(f"BUSY{n}" for n in range(8))
    stream = random_commands(11, 4_000, busy)
    await service.start()
    sent = 0

    async def keep_busy() -> None:
        nonlocal sent
        while sent < len(stream):
            await send_commands(bus, stream[sent : sent + 8])
            sent += 8
            await asyncio.sleep(0.002)

    feeder = asyncio.create_task(keep_busy())
    await asyncio.sleep(0.2)  # both slots are taken by busy instruments
    newcomer = random_commands(12, 3, ("NEW",))
    await send_commands(bus, newcomer)
    try:
        await eventually(lambda: _journaled(store, "NEW"), timeout=20)
        assert not feeder.done()  # answered while the others were still busy
    finally:
        await feeder
    await eventually(lambda: unsettled(bus) == 0, timeout=60)
    assert len(service.parked) > 0  # turns were taken: books were parked and resumed
    await service.stop()
    expected = reference([*stream, *newcomer])
    for symbol, (journal, state_hash) in expected.items():
        assert await journal_of(store, symbol) == journal, symbol
        assert await recovered_hash(store, tmp_path / "snapshots", symbol) == state_hash


async def _journaled(store: Store, symbol: str) -> bool:
    return await store.journal.last_seq(symbol) > 0


async def test_every_published_batch_says_when_the_matcher_ran_each_of_its_commands(
    store: Store, tmp_path: Path
) -> None:
    commands = random_commands(5, 60, ("AAA",))
    clock = ManualNs()
    clock.now = T0 + 42_000_000_000  # the matcher's clock, unlike any command's timestamp
    bus = make_bus()
    service = make_service(store, bus, tmp_path, clock=clock)
    await service.start()
    await send_commands(bus, commands)
    await eventually(lambda: unsettled(bus) == 0)
    await service.stop()

    published = await drain_executions(bus, ("AAA",))
    entries = [e async for e in store.journal.read_from("AAA", 1)]
    assert entries and {e.processed_at for e in entries} == {clock.now}
    for _, body in published.batches["AAA"]:
        batch = decode_event_batch(body)
        starts = [e.first_seq for e in entries if batch.first_seq <= e.first_seq <= batch.last_seq]
        assert batch.processed == tuple((seq, clock.now) for seq in starts)
