"""Helpers for the matcher service tests: command streams, fault points, and a driver that
runs instrument workers on the in-memory bus until every command is processed."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.service.errors import InstrumentLost
from matcher.service.instrument_worker import InstrumentWorker, WorkerConfig
from matcher.service.recovery import load_venue, replay
from matcher.service.venue import Venue, new_venue, run_command
from shared.adapters.bus_faults import BusFaults
from shared.adapters.bus_memory import InMemoryBus, QueueOptions
from shared.adapters.snapshots_local import FolderSnapshotStore
from shared.domain.commands import (
    CancelAll,
    CancelOrder,
    Command,
    ExpireOrders,
    NewOrder,
    ReplaceOrder,
    SetTradingState,
)
from shared.domain.events import Event
from shared.messages import command_message, decode_event_batch
from shared.ports.bus import MessageLockLostError, SessionLockLostError
from shared.ports.store import Store
from tools.faults import Crash, CrashingBus

ORDERS = "orders"
EXECUTIONS = "executions"
T0 = 1_700_000_000_000_000_000


def make_bus(faults: BusFaults | None = None, executions_dedup: bool = False) -> InMemoryBus:
    """Orders with duplicate detection; executions without it unless asked, so every
    re-publish is visible to the test."""
    return InMemoryBus(
        {
            ORDERS: QueueOptions(requires_session=True, max_delivery_count=1000),
            EXECUTIONS: QueueOptions(
                requires_session=True,
                duplicate_detection_window=600.0 if executions_dedup else None,
            ),
        },
        faults=faults,
    )


def random_commands(seed: int, n: int, symbols: Sequence[str] = ("AAA", "BBB")) -> list[Command]:
    """A seeded stream over a few instruments: limit/market/IOC/GTD orders (account p on the
    paper venue), cancels, replaces, cancel-alls (often with nothing to cancel: no events),
    expiry ticks and halts."""
    rng = random.Random(seed)
    ts = T0
    live: dict[str, list[tuple[str, str]]] = {s: [] for s in symbols}
    out: list[Command] = []
    for i in range(n):
        ts += rng.choice((1, 1_000, 300_000_000))
        symbol = rng.choice(symbols)
        cid = f"c{seed}-{i}"
        roll = rng.random()
        ids = live[symbol]
        if roll < 0.62 or not ids:
            account = rng.choice(("a", "b", "c", "p"))  # p trades on the paper venue
            kind = rng.choice(("limit", "limit", "limit", "market"))
            tif = "ioc" if kind == "market" else rng.choice(("gtc", "gtc", "ioc", "gtd", "day"))
            oid = f"o{seed}-{i}"
            ids.append((oid, account))
            out.append(
                NewOrder(
                    cid,
                    ts,
                    symbol,
                    oid,
                    account,
                    rng.choice(("buy", "sell")),
                    kind,
                    tif,
                    rng.randint(1, 9),
                    rng.randint(97, 103) if kind == "limit" else 0,
                    0,
                    ts + rng.randint(1, 4) * 300_000_000 if tif == "gtd" else 0,
                    venue="paper" if account == "p" else "internal",
                )
            )
        elif roll < 0.76:
            oid, account = rng.choice(ids[-12:])
            out.append(CancelOrder(cid, ts, symbol, oid, account))
        elif roll < 0.86:
            oid, account = rng.choice(ids[-12:])
            out.append(
                ReplaceOrder(
                    cid, ts, symbol, oid, account, rng.randint(1, 12), rng.randint(97, 103)
                )
            )
        elif roll < 0.92:
            out.append(CancelAll(cid, ts, symbol, rng.choice(("a", "b", "c"))))
        elif roll < 0.98:
            out.append(ExpireOrders(cid, ts, symbol, end_of_day=rng.random() < 0.1))
        else:
            state = rng.choice(("halted", "active", "active"))
            out.append(SetTradingState(cid, ts, symbol, state))
    return out


def reference(
    commands: Sequence[Command],
) -> dict[str, tuple[list[tuple[str, list[dict[str, object]]]], str]]:
    """What a crash-free matcher must end with, per symbol: the journal (command id and
    events of each command: every one from the queue is journaled) and the state hash."""
    venues: dict[str, Venue] = {}
    journals: dict[str, list[tuple[str, list[dict[str, object]]]]] = {}
    for command in commands:
        venue = venues.setdefault(command.symbol, new_venue(command.symbol))
        out: list[Event] = []
        run_command(venue, command, out, queued=True)
        if out:
            journals.setdefault(command.symbol, []).append(
                (command.command_id, [e.to_dict() for e in out])
            )
    return {s: (journals.get(s, []), v.state_hash()) for s, v in venues.items()}


def drain_config(**overrides: Any) -> WorkerConfig:
    """Small batches and frequent snapshots (so crashes land everywhere), no wall-clock
    ticks (the stream carries its own), and give the session up as soon as it is idle."""
    values: dict[str, Any] = {
        "executions_queue": EXECUTIONS,
        "batch_size": 7,
        "snapshot_every_events": 25,
        "snapshot_every_seconds": 3600.0,
        "keep_snapshots": 2,
        "tick_every": None,
        "receive_wait": 0.0,
        "share_after": 0.0,
    }
    values.update(overrides)
    return WorkerConfig(**values)


@dataclass
class Outcome:
    crashes: int = 0
    lock_losses: int = 0
    workers: int = 0


async def run_workers(
    store: Store,
    bus: Any,
    snapshots: Any,
    config: WorkerConfig,
    *,
    on_crash: Callable[[str], None] | None = None,
    max_workers: int = 10_000,
) -> Outcome:
    """Accept sessions and run a worker on each until no session has messages left. A Crash
    kills the worker like a dead process: its receiver is dropped and its lock lapses."""
    outcome = Outcome()
    journal = store.journal
    stopping = asyncio.Event()
    while outcome.workers < max_workers:
        receiver = await bus.accept_session(ORDERS, None, max_wait=0.0)
        if receiver is None:
            return outcome
        outcome.workers += 1
        worker = InstrumentWorker(
            receiver, journal, store.instruments, bus, snapshots, None, config, _clock
        )
        try:
            await worker.run(stopping, lambda: True)
        except Crash as crash:
            outcome.crashes += 1
            inner = bus.inner if isinstance(bus, CrashingBus) else bus
            inner.expire_session_lock(ORDERS, worker.symbol)  # nobody renews it any more
            if on_crash is not None:
                on_crash(str(crash))
            continue
        except (SessionLockLostError, MessageLockLostError, InstrumentLost):
            outcome.lock_losses += 1
        await receiver.close()
    raise AssertionError("workers kept coming back: the run does not converge")


def _clock() -> int:
    return T0


async def send_commands(bus: Any, commands: Sequence[Command]) -> None:
    await bus.send(ORDERS, [command_message(c) for c in commands])


@dataclass
class Published:
    """Everything the executions queue received, per symbol, in arrival order."""

    batches: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)


async def drain_executions(bus: InMemoryBus, symbols: Sequence[str]) -> Published:
    """Read every batch published to `executions` (with the bus faults switched off: the
    reader here is the test, not the system under test)."""
    bus._faults = None
    published = Published()
    for symbol in symbols:
        receiver = await bus.accept_session(EXECUTIONS, symbol)
        assert receiver is not None
        got = published.batches.setdefault(symbol, [])
        while messages := await receiver.receive(10_000):
            for m in messages:
                got.append((m.message_id, m.body))
                with contextlib.suppress(MessageLockLostError):
                    await receiver.complete(m)
        await receiver.close()
    return published


async def journal_of(store: Store, symbol: str) -> list[tuple[str, list[dict[str, object]]]]:
    return [(e.command_id, e.events) async for e in store.journal.read_from(symbol, 1)]


async def recovered_hash(store: Store, snapshots_dir: Path, symbol: str) -> str:
    """Rebuild from the latest snapshot and the journal, as a restart would."""
    venue, _ = await load_venue(symbol, FolderSnapshotStore(snapshots_dir), store.instruments)
    async for entry in store.journal.read_from(symbol, venue.seq + 1):
        replay(venue, entry)
    return venue.state_hash()


def check_published(
    published: Published, journal: list[tuple[str, list[dict[str, object]]]], symbol: str
) -> int:
    """Every journaled event reached `executions`, first arrivals in sequence order (a
    message carries one or more consecutive entries, named by its seq range); repeats of
    a message id share its body. Returns how many messages were repeats or re-groupings."""
    first: dict[str, bytes] = {}
    order: list[str] = []
    for message_id, body in published.batches.get(symbol, []):
        if message_id in first:
            assert first[message_id] == body, f"{message_id} re-published with another body"
            continue
        first[message_id] = body
        order.append(message_id)
    arrived: list[dict[str, object]] = []
    fresh = 0
    for message_id in order:
        batch = decode_event_batch(first[message_id])
        assert message_id == f"{symbol}:{batch.first_seq}-{batch.last_seq}"
        events = [e.to_dict() for e in batch.events]
        assert [events[0]["seq"], events[-1]["seq"]] == [batch.first_seq, batch.last_seq]
        new = [e for e in events if not arrived or int(e["seq"]) > int(arrived[-1]["seq"])]  # type: ignore[call-overload]
        fresh += bool(new)
        arrived += new
    assert arrived == [event for _, events in journal for event in events]
    return len(published.batches.get(symbol, [])) - fresh
