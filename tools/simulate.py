"""Deterministic fault-injection simulation of the whole order path:
`python -m tools.simulate --seed N`.

Drives thousands of orders over several instruments and accounts through the real pieces,
in one process: the HTTP API (the FastAPI app, in-process over ASGI) -> intake -> the
in-memory session bus -> matcher workers (snapshots + journal) -> the `executions` trigger
function (projector) -> orders, executions and positions in SQLite. From the seed it injects:
- matcher crashes before or after any journal, bus or snapshot step (the worker's state is
  dropped; a new worker recovers from the latest snapshot plus the journal),
- bus faults: expired session locks, lost completions (redeliveries), duplicate sends,
  delayed messages,
- intake faults: the command send fails after the order is stored (the outbox sweep
  delivers it), and lost HTTP responses (the client retries with the same
  Idempotency-Key and client order id),
- projector faults: an `executions` batch is dead-lettered (as after its last failed
  delivery); the next batch of the instrument, or the outbox sweep, applies its events
  from the journal,
- engine failures: the venue raises on some new orders after changing its state (a bug);
  the worker rebuilds the venue from the journal and journals the order's rejection
  (ENGINE_ERROR), and a resend of the order is skipped,
- an external venue (`tools.sim_venue`, issue #18) where a quarter of the live accounts are
  routed: it fills, rejects, duplicates, delays and drops its reports from the seed; at the
  end every order's fills equal the venue's own record (none lost, none counted twice).
- the kill switch: one instrument (from the seed) is halted when four fifths of the orders
  are in, as the traders routed to the external venue amend their orders of it (the halt
  meets replaces the venue has not answered); the venue halts it too (nothing of it fills
  there any more), and once it has answered everything, none of them is working there.

Orders of every type, instruction and class are among them: limit and market orders,
icebergs, post-only orders, trailing stops, brackets, OCOs and OTOs (each leg of a group is
an acknowledged order of its own).

It then switches the faults off, lets everything settle, and checks what a trader would:
no acknowledged order lost or duplicated, no execution applied twice, filled + leaves +
canceled + held == quantity for every order, bought == sold per instrument, that each
instrument's recovered matcher state hash equals an uninterrupted run of the same command
stream (every command the bus accepted, once, in queue order, those the venue failed on
answered by their refusal), and money: the total of every account's cash and market value
(with the paper market's) changed only by deposits and fees, and every account's balances
and positions equal those the uninterrupted run's fills give. The last line printed is one
JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import random
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from functions.http import create_app
from functions.runtime import ContainerProvider
from functions.triggers import on_execution_message
from matcher.service.errors import InstrumentLost
from matcher.service.instrument_worker import InstrumentWorker, WorkerConfig
from matcher.service.recovery import load_venue, replay
from matcher.service.venue import new_venue, outcome_record, run_command
from shared.adapters.bus_faults import BusFaults, FaultRates, ManualClock
from shared.adapters.bus_functions import to_functions_message
from shared.adapters.bus_memory import InMemoryBus, QueueOptions
from shared.adapters.cache_memory import MemoryCache
from shared.adapters.signalr_off import DiscardingNotifier
from shared.adapters.snapshots_local import FolderSnapshotStore
from shared.adapters.sqlite.store import open_sqlite_store
from shared.bootstrap import Container, bootstrap
from shared.config.settings import Settings
from shared.domain import reasons
from shared.domain.commands import Command
from shared.domain.enums import AccountType, OrderStatus, TradingState
from shared.domain.events import Event, OrderFilled
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.domain.positions import Position, after_fill, grid_of
from shared.messages import decode_command
from shared.ports.bus import BusError, BusMessage, MessageLockLostError, SessionLockLostError
from shared.ports.store import Store
from shared.ports.store_accounts import RiskLimits
from shared.ports.store_codec import fill_of
from shared.ports.store_executions import Execution
from shared.ports.store_venues import FixVenueSettings, VenueDefinition, VenueKind
from shared.services import sweep
from shared.services.admin import NewAccount, create_account
from shared.services.balances import ledger_balance, summarize
from shared.services.cash import DEPOSIT, move_cash
from shared.services.instrument_admin import set_instrument_state
from shared.services.limits import is_open
from shared.services.marks import Mark
from shared.services.projector import fill_execution, matched_trades
from shared.services.venues import define_venue, route_account
from tools.faults import Crash, CrashingBus, CrashingJournal, CrashingSnapshots, CrashPlan
from tools.sim_venue import NAME as EXTERNAL
from tools.sim_venue import OPEN as VENUE_OPEN
from tools.sim_venue import SimVenue

log = logging.getLogger(__name__)

T0 = 1_700_000_000_000_000_000
MS = 1_000_000
ORDERS, EXECUTIONS, REQUESTS, VENUES = "orders", "executions", "order-requests", "venues"
DEPOSIT_EACH = Decimal("1000000")
# Beside plain limit and market orders, what a live trader places (paper traders: market
# orders, market-entry brackets and trailing stops): every type, instruction and class.
ORDER_MIX = ("iceberg", "post_only", "trailing_stop", "bracket", "bracket", "oco", "oto")
GENEROUS = RiskLimits(
    max_order_notional=Decimal("1000000000"),
    max_open_orders=100_000,
    max_daily_orders=10_000_000,
    rate_per_second=1_000_000,
    burst=1_000_000,
    credit_limit=Decimal("1000000000000"),
)


@dataclass
class SimClock:
    """Simulated time in ns: moves only when the driver says so (never the wall clock)."""

    now: int = T0

    def __call__(self) -> int:
        return self.now


class FlakyIntakeBus:
    """The intake's view of the bus: a send to `orders` fails now and then (after the order
    was stored), as a bus outage would. Records every command the bus accepted, in order."""

    def __init__(self, inner: InMemoryBus, rng: random.Random, rate: float) -> None:
        self.inner, self._rng, self.rate = inner, rng, rate
        self.accepted: list[tuple[str, str, bytes]] = []  # (symbol, command id, body)

    async def send(self, queue: str, messages: Sequence[BusMessage]) -> None:
        if queue == ORDERS and self.rate and self._rng.random() < self.rate:
            raise BusError("simulated outage: the send did not reach the bus")
        await self.inner.send(queue, messages)
        if queue == ORDERS:
            for m in messages:
                self.accepted.append((m.session_id or "", m.message_id, m.body))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class Trader:
    account_id: str
    key: str
    paper: bool
    orders: list[str] = field(default_factory=list)
    external: bool = False  # routed to the external venue


@dataclass
class Tally:
    acknowledged: dict[str, str] = field(default_factory=dict)  # order id -> client order id
    retries: int = 0
    retry_mismatches: int = 0
    refused: Counter[int] = field(default_factory=Counter)
    crashes: int = 0
    dead_lettered_batches: int = 0  # executions batches the simulation dead-lettered
    kinds: Counter[str] = field(default_factory=Counter)  # what was placed, accepted at intake


ENGINE_FAILURE_PER_MILLE = 5  # new orders the venue fails on, per thousand


class FailingVenue:
    """A venue that raises on some new orders after it has run them (its state is then
    half-changed, as after a bug), chosen by the seed and the command id."""

    def __init__(self, inner: Any, seed: int, per_mille: int) -> None:
        self.inner, self._seed, self._per_mille = inner, seed, per_mille
        self.failed: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def seq(self) -> int:
        return int(self.inner.seq)

    def handle(self, command: Command, out: list[Event]) -> None:
        self.inner.handle(command, out)
        if command.KIND in ("new_order", "new_order_group") and self.fails(command.command_id):
            self.failed.append(command.command_id)
            raise RuntimeError(f"simulated engine failure on {command.command_id}")

    def fails(self, command_id: str) -> bool:
        return engine_fails(self._seed, self._per_mille, command_id)


def engine_fails(seed: int, per_mille: int, command_id: str) -> bool:
    """Whether the simulated venue fails on this new order's command."""
    return zlib.crc32(f"{seed}:{command_id}".encode()) % 1000 < per_mille


class Simulation:
    def __init__(self, seed: int, orders: int, instruments: int, accounts: int, faults: bool):
        self.seed = seed
        self.n_orders = orders
        self.symbols = [f"SIM{i}" for i in range(instruments)]
        self.n_accounts = accounts
        self.faults = faults
        self.rng = random.Random(seed)
        self.clock = SimClock()
        self.tally = Tally()
        self.plan = CrashPlan(seed=seed * 7919 + 1, rate=0.03 if faults else 0.0)
        rates = (
            FaultRates(expire_lock=0.02, redeliver=0.03, duplicate_send=0.02, delay=0.02)
            if faults
            else FaultRates()
        )
        self.bus_faults = BusFaults(seed * 104_729 + 3, rates)
        options = QueueOptions(requires_session=True, max_delivery_count=1_000)
        self.bus_clock = ManualClock()
        self.bus = InMemoryBus(
            {
                ORDERS: options,
                EXECUTIONS: options,
                VENUES: options,
                REQUESTS: QueueOptions(max_delivery_count=1_000),
            },
            clock=self.bus_clock,
            faults=self.bus_faults,
        )
        self.intake_bus = FlakyIntakeBus(
            self.bus, random.Random(seed * 31 + 7), 0.02 if faults else 0.0
        )
        self.projector_rng = random.Random(seed * 613 + 11)
        self.poison_rate = 0.03 if faults else 0.0
        self.engine_failure_per_mille = ENGINE_FAILURE_PER_MILLE if faults else 0
        self.engine_failures = 0
        self.refused_orders = 0
        self.refused_wrongly = 0  # refused, though the venue was not made to fail on it
        self.stopping = asyncio.Event()
        self.workers: dict[str, tuple[InstrumentWorker, Any]] = {}
        self.rounds = 0
        self.settle_seconds = 60.0
        self.clean_fills: list[Execution] = []  # every fill of the uninterrupted run
        self.halted = self.symbols[seed % len(self.symbols)]  # halted 4/5 of the way in

    # ----------------------------------------------------------------- set-up

    async def build(self, data_dir: Path) -> tuple[Container, Store, httpx.AsyncClient]:
        store = await open_sqlite_store(":memory:")
        settings = Settings(OMS_DATA_DIR=data_dir)
        container = await bootstrap(
            settings,
            store=store,
            bus=self.intake_bus,
            cache=MemoryCache(),
            notifier=DiscardingNotifier(),
            clock=self.clock,
        )
        for symbol in self.symbols:
            await store.instruments.create(
                Instrument(
                    symbol,
                    tick_size=Decimal("1"),
                    lot_size=Decimal("1"),
                    max_quantity=1_000,
                    price_collar_bps=5_000,
                    maker_fee_cbps=10,
                    taker_fee_cbps=25,
                    reference_price=10_000,
                )
            )

        async def same() -> Container:
            return container

        app = create_app(ContainerProvider(same))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://simulated"
        )
        return container, store, client

    async def make_traders(self, container: Container) -> list[Trader]:
        traders = []
        venue = VenueDefinition(
            EXTERNAL, VenueKind.FIX, FixVenueSettings("127.0.0.1", 9, "OMS", "SIMX")
        )
        await define_venue(container, venue, "simulation")
        for i in range(self.n_accounts):
            paper = i % 4 == 3
            spec = NewAccount(
                name=f"sim-{i}",
                type=AccountType.PAPER if paper else AccountType.LIVE,
                risk_limits=GENEROUS,
                entra_object_id=f"sim-{self.seed}-{i}",
            )
            account, key = await create_account(container, spec, actor="simulation")
            await move_cash(container, account, DEPOSIT, DEPOSIT_EACH, f"sim-{i}", "simulation")
            external = i % 4 == 1
            if external:
                await route_account(container, account.account_id, EXTERNAL, "simulation")
            traders.append(Trader(account.account_id, key, paper, external=external))
        return traders

    # ----------------------------------------------------------------- the driver

    async def request(
        self, client: httpx.AsyncClient, method: str, url: str, key: str, body: Any = None
    ) -> httpx.Response:
        headers = {"X-API-Key": key}
        if body is not None and method == "POST":
            headers["Idempotency-Key"] = str(body["client_order_id"])
        response = await client.request(method, url, json=body, headers=headers)
        if self.faults and method == "POST" and self.rng.random() < 0.05:
            # The response was lost: the client retries the very same request.
            self.tally.retries += 1
            again = await client.request(method, url, json=body, headers=headers)
            if again.status_code != response.status_code or (
                response.status_code == 202
                and again.json()["order_id"] != response.json()["order_id"]
            ):
                self.tally.retry_mismatches += 1
            response = again
        return response

    async def drive(self, client: httpx.AsyncClient, traders: list[Trader]) -> None:
        rng = self.rng
        for i in range(self.n_orders):
            step = rng.choice((1, MS, 20 * MS))
            self.clock.now += step
            self.bus_clock.advance(step / 1e9)
            trader = rng.choice(traders)
            symbol = rng.choice(self.symbols)
            roll = rng.random()
            if roll < 0.7 or not trader.orders:
                await self.place(client, trader, symbol, i)
            elif roll < 0.85:
                order_id = rng.choice(trader.orders[-10:])
                r = await self.request(client, "DELETE", f"/api/orders/{order_id}", trader.key)
                self.note(r)
            else:
                order_id = rng.choice(trader.orders[-10:])
                body = {"quantity": str(rng.randint(1, 30))}
                if rng.random() < 0.5:
                    body["limit_price"] = str(10_000 + rng.randint(-5, 5))
                r = await self.request(client, "PATCH", f"/api/orders/{order_id}", trader.key, body)
                self.note(r)
            if i == self.n_orders * 4 // 5:
                await self.halt(client, traders)
            if i % 3 == 2:
                await self.pump()
            if i % 500 == 499:
                await sweep.sweep_outbox(self.container)  # the timer trigger's outbox sweep

    async def halt(self, client: httpx.AsyncClient, traders: list[Trader]) -> None:
        """The instrument's kill switch, by an admin (stored, then sent to its matcher; when
        the send fails, the outbox sweep sends it), while the traders routed to the venue
        amend their working orders there: the halt meets replaces not answered yet."""
        for trader in traders:
            for order_id in trader.orders[-10:] if trader.external else []:
                order = await self.store.orders.get_any(order_id)
                if order is not None and order.symbol == self.halted and is_open(order):
                    body = {"quantity": str(order.quantity + 1)}
                    url = f"/api/orders/{order_id}"
                    self.note(await self.request(client, "PATCH", url, trader.key, body))
        self.venue.halt(self.halted)
        with contextlib.suppress(BusError):
            await set_instrument_state(
                self.container, self.halted, TradingState.HALTED, "simulation"
            )

    async def place(self, client: httpx.AsyncClient, trader: Trader, symbol: str, i: int) -> None:
        rng = self.rng
        coid = f"s{self.seed}-{i}"
        side = rng.choice(("buy", "sell"))
        body: dict[str, Any] = {"symbol": symbol, "side": side, "client_order_id": coid}
        body["quantity"] = str(rng.randint(1, 20))
        kinds: tuple[str, ...] = ("market", "market", "market", "bracket", "trailing_stop")
        if trader.external:  # what an external venue takes: simple limit and market orders
            kinds = ("limit",) * 3 + ("market",)
        elif not trader.paper:
            kinds = ("limit",) * 9 + ("market",) * 3 + ORDER_MIX
        kind = rng.choice(kinds)
        body.update(self.order_of(kind, side))
        r = await self.request(client, "POST", "/api/orders", trader.key, body)
        self.note(r)
        if r.status_code == 202:
            placed = r.json()
            for order in (placed, *(placed.get("legs") or ())):
                order_id = str(order["order_id"])
                self.tally.acknowledged[order_id] = str(order["client_order_id"])
                trader.orders.append(order_id)
            self.tally.kinds[kind] += 1

    def order_of(self, kind: str, side: str) -> dict[str, Any]:
        """The fields of one order of `kind` (around the reference price of 10,000 ticks)."""
        rng = self.rng
        price = 10_000 + rng.randint(-5, 5)
        up = 1 if side == "buy" else -1  # where a buy entry's take-profit is
        if kind == "market":
            return {"type": "market", "time_in_force": "ioc"}
        limit = {"type": "limit", "limit_price": str(price)}
        if kind == "limit":
            return {**limit, "time_in_force": rng.choice(("gtc", "gtc", "gtc", "ioc", "fok"))}
        if kind == "iceberg":
            return {**limit, "time_in_force": "gtc", "display_quantity": str(rng.randint(1, 3))}
        if kind == "post_only":
            return {**limit, "time_in_force": "gtc", "post_only": True}
        trail = (
            {"trail_amount": str(rng.randint(2, 6))}
            if rng.random() < 0.5
            else {"trail_percent": str(rng.choice(("0.03", "0.05", "0.1")))}
        )
        if kind == "trailing_stop":
            return {"type": "trailing_stop", "time_in_force": "gtc", **trail}
        take_profit = {"limit_price": str(price + up * rng.randint(3, 8))}
        stop_loss = (
            {"stop_price": str(price - up * rng.randint(3, 8))} if rng.random() < 0.6 else trail
        )
        entry = (
            {"type": "market", "time_in_force": "ioc"}
            if kind == "bracket" and rng.random() < 0.3
            else {**limit, "time_in_force": "gtc"}
        )
        if kind == "oco":  # exits of a position: the take-profit is on the far side
            take_profit = {"limit_price": str(price - up * rng.randint(3, 8))}
            stop_loss = {"stop_price": str(price + up * rng.randint(3, 8))}
            return {
                "type": "limit",
                "time_in_force": "gtc",
                "order_class": "oco",
                "take_profit": take_profit,
                "stop_loss": stop_loss,
            }
        if kind == "oto":
            exit_leg = rng.choice((("take_profit", take_profit), ("stop_loss", stop_loss)))
            return {**entry, "order_class": "oto", exit_leg[0]: exit_leg[1]}
        return {
            **entry,
            "order_class": "bracket",
            "take_profit": take_profit,
            "stop_loss": stop_loss,
        }

    def note(self, r: httpx.Response) -> None:
        if r.status_code >= 500:
            raise AssertionError(f"server error {r.status_code}: {r.text}")
        if r.status_code >= 300:
            self.tally.refused[r.status_code] += 1

    # ----------------------------------------------------------------- lock-step rounds
    # Matcher and projector run in rounds between driver steps, one thing at a time, with
    # every wait at zero and the bus on a manual clock: the same seed gives the same run.

    def wire(self, container: Container, store: Store, snapshots_dir: Path) -> None:
        self.container = container
        self.matcher_bus = CrashingBus(self.bus, self.plan)
        self.matcher_journal = CrashingJournal(store.journal, self.plan)
        self.snapshots = CrashingSnapshots(FolderSnapshotStore(snapshots_dir), self.plan)
        self.store = store
        self.venue = SimVenue(
            self.seed,
            self.bus,
            VENUES,
            self.intake_bus,
            ORDERS,
            store.instruments,
            store.orders,
            self.clock,
            self.faults,
        )
        self.config = WorkerConfig(
            executions_queue=EXECUTIONS,
            venues_queue=VENUES,
            batch_size=16,
            snapshot_every_events=10**9,
            snapshot_every_seconds=1e18,
            tick_every=None,
            receive_wait=0.0,
            share_after=1e18,
        )

    def crashed(self, symbol: str) -> None:
        """The worker's process died: its state is gone, its session lock lapses."""
        self.tally.crashes += 1
        self.workers.pop(symbol, None)
        self.bus.expire_session_lock(ORDERS, symbol)

    async def pump(self) -> None:
        self.rounds += 1
        await self.matcher_round()
        await self.venue.round()
        await self.projector_round()

    async def matcher_round(self) -> None:
        while True:  # take every free session that has work
            try:
                receiver = await self.matcher_bus.accept_session(ORDERS, None, max_wait=0.0)
            except Crash:
                self.tally.crashes += 1
                continue
            if receiver is None:
                break
            worker = InstrumentWorker(
                receiver,
                self.matcher_journal,
                self.store.instruments,
                self.matcher_bus,
                self.snapshots,
                None,
                self.config,
                self.clock,
            )
            try:
                await worker.recover()
            except Crash:
                self.crashed(receiver.session_id)
                continue
            self.workers[worker.symbol] = (worker, receiver)
        for symbol, (worker, receiver) in sorted(self.workers.items()):
            try:
                messages = await receiver.receive(self.config.batch_size, max_wait=0.0)
                if messages:
                    venue = worker.venue
                    if self.engine_failure_per_mille and not isinstance(venue, FailingVenue):
                        worker.venue = FailingVenue(venue, self.seed, self.engine_failure_per_mille)
                    failing = worker.venue
                    try:
                        await worker.process(messages)
                    finally:
                        if isinstance(failing, FailingVenue):
                            self.engine_failures += len(failing.failed)
                            failing.failed.clear()
                if self.rounds % 25 == 0:
                    await worker.save_snapshot(only_if_changed=True)
            except Crash:
                self.crashed(symbol)
            except (SessionLockLostError, MessageLockLostError, InstrumentLost):
                self.workers.pop(symbol, None)
                with contextlib.suppress(BusError):
                    await receiver.close()

    async def projector_round(self) -> None:
        """The `executions` trigger function, fed the way the Functions host does: complete
        on success, abandon (and let the session go) on failure."""
        while True:
            receiver = await self.bus.accept_session(EXECUTIONS, None, max_wait=0.0)
            if receiver is None:
                return
            try:
                messages = await receiver.receive(64, max_wait=0.0)
                for n, message in enumerate(messages):
                    if self.projector_rng.random() < self.poison_rate:
                        # Its last delivery failed too: set aside for good.
                        await receiver.dead_letter(message, "SimulatedPoison", "injected")
                        self.tally.dead_lettered_batches += 1
                        continue
                    try:
                        await on_execution_message(self.container, to_functions_message(message))
                    except (BusError, Crash):
                        raise
                    except Exception:
                        for left in messages[n:]:
                            await receiver.abandon(left)
                        break
                    await receiver.complete(message)
            except (SessionLockLostError, MessageLockLostError):
                pass
            finally:
                with contextlib.suppress(BusError):
                    await receiver.close()

    # ----------------------------------------------------------------- settle and check

    async def settle(self, container: Container, store: Store, deadline: float) -> bool:
        """Faults off; sweep and wait until no order is pending and the queues are empty."""
        self.plan.armed = False
        self.bus_faults.rates = FaultRates()
        self.intake_bus.rate = 0.0
        self.poison_rate = 0.0
        self.engine_failure_per_mille = 0
        self.venue.calm()
        for worker, _ in self.workers.values():
            if isinstance(worker.venue, FailingVenue):
                worker.venue = worker.venue.inner
        while time.monotonic() < deadline:
            self.clock.now += 10_000 * MS  # past the sweep's grace
            self.bus_clock.advance(10.0)
            await sweep.sweep_outbox(container)
            for _ in range(20):
                await self.pump()
            if not await self.pending_orders(store) and self.bus_idle():
                return True
        return False

    def bus_idle(self) -> bool:
        queues = (ORDERS, EXECUTIONS, VENUES)
        return self.venue.idle() and all(self.bus.active_message_count(q) == 0 for q in queues)

    async def all_orders(self, store: Store) -> list[Any]:
        found = []
        for order_id in self.tally.acknowledged:
            order = await store.orders.get_any(order_id)
            if order is not None:
                found.append(order)
        return found

    async def pending_orders(self, store: Store) -> int:
        pending = {OrderStatus.PENDING_NEW, OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE}
        return sum(1 for o in await self.all_orders(store) if o.status in pending)

    async def check(
        self, store: Store, snapshots_dir: Path, traders: list[Trader]
    ) -> dict[str, Any]:
        orders = await self.all_orders(store)
        by_id = {o.order_id: o for o in orders}
        journaled: Counter[str] = Counter()
        hashes_match = True
        for symbol in self.symbols:
            async for entry in store.journal.read_from(symbol, 1):
                for e in entry.events:
                    if e["kind"] in ("order_accepted", "order_rejected"):
                        journaled[str(e["order_id"])] += 1
            hashes_match &= await self.hash_matches(store, snapshots_dir, symbol)
        pending = {OrderStatus.PENDING_NEW, OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE}
        lost = [
            oid
            for oid in self.tally.acknowledged
            if oid not in by_id or journaled[oid] == 0 or by_id[oid].status in pending
        ]
        for oid in lost:
            order = by_id.get(oid)
            log.error(
                "lost order %s: %s, journaled %d",
                oid,
                "missing" if order is None else order.status.value,
                journaled[oid],
            )
        executions: list[Any] = []
        for trader in traders:
            cursor = None
            while True:
                page = await store.executions.list_by_account(
                    trader.account_id, limit=500, cursor=cursor
                )
                executions.extend(page.items)
                cursor = page.next_cursor
                if cursor is None:
                    break
        exec_counts = Counter(e.execution_id for e in executions)
        filled_by_order: Counter[str] = Counter()
        for e in executions:
            filled_by_order[e.order_id] += e.quantity
        # The paper market and the external venue are the other side of their fills.
        paper = {t.account_id for t in traders if t.paper or t.external}
        bought: Counter[str] = Counter()
        sold: Counter[str] = Counter()
        for e in executions:
            if e.account_id not in paper:
                (bought if e.side == "buy" else sold)[e.symbol] += e.quantity
        conserved = all(
            o.cum_qty + o.leaves_qty + o.canceled_qty + o.held_qty == o.quantity
            and o.cum_qty == filled_by_order[o.order_id]
            for o in orders
        )
        positions_ok = True
        for trader in traders:
            for p in await store.positions.list_positions(trader.account_id):
                mine = [
                    e
                    for e in executions
                    if e.account_id == trader.account_id and e.symbol == p.symbol
                ]
                positions_ok &= p.bought_quantity == sum(
                    e.quantity for e in mine if e.side == "buy"
                ) and p.sold_quantity == sum(e.quantity for e in mine if e.side == "sell")
        money_conserved, money_same = await self.money_checks(store, traders)
        ledgers_ok = await self.risk_ledgers_match(store, traders, orders)
        venue_lost, venue_doubled, venue_state_differs = self.against_venue(by_id)
        open_after_halt = sorted(
            o.order_id
            for o in self.venue.orders.values()
            if o.symbol == self.halted and o.status in VENUE_OPEN
        )
        for order_id in open_after_halt:
            log.error("%s: still working at the venue after %s was halted", order_id, self.halted)
        coids = Counter((o.account_id, o.client_order_id) for o in orders)
        dlq = 0
        for queue in (ORDERS, EXECUTIONS, VENUES):
            dlq += len(await self.bus.dead_letters(queue, 10_000))
        return {
            "seed": self.seed,
            "faults": self.faults,
            "orders_sent": self.n_orders,
            "orders_acknowledged": len(self.tally.acknowledged),
            "orders_lost": len(lost),
            "duplicate_orders": sum(n - 1 for n in coids.values() if n > 1)
            + sum(n - 1 for n in journaled.values() if n > 1)
            + self.tally.retry_mismatches,
            "duplicate_executions": sum(n - 1 for n in exec_counts.values() if n > 1)
            + (0 if positions_ok else 1),
            "conservation_ok": conserved and bought == sold,
            "state_hash_matches_clean_run": hashes_match,
            "money_conserved": money_conserved,
            "balances_match_clean_run": money_same,
            "risk_ledgers_match_orders": ledgers_ok,
            "executions": len(executions),
            "venue_fills_lost": venue_lost,
            "venue_fills_doubled": venue_doubled,
            "venue_state_differs": venue_state_differs,
            "halted": self.halted,
            "venue_open_after_halt": len(open_after_halt),
            "venue": dataclasses.asdict(self.venue.tally),
            "venue_orders": len(self.venue.orders),
            "placed": dict(sorted(self.tally.kinds.items())),
            "http_retries": self.tally.retries,
            "refused": dict(self.tally.refused),
            "matcher_crashes": self.tally.crashes,
            "bus_faults": dict(Counter(kind for kind, _ in self.bus_faults.injected)),
            "engine_failures": self.engine_failures,
            "orders_refused_by_engine_error": self.refused_orders,
            "orders_refused_wrongly": self.refused_wrongly,
            "dead_lettered_batches": self.tally.dead_lettered_batches,
            "dead_letters": dlq,
            "unexpected_dead_letters": dlq - self.tally.dead_lettered_batches,
        }

    def against_venue(self, ours: dict[str, Order]) -> tuple[int, int, int]:
        """(lots the venue filled that we lack, lots we hold that it never filled, orders
        open at one side and closed at the other): all 0 when nothing was lost or doubled."""
        lost = doubled = differs = 0
        for order_id, theirs in self.venue.orders.items():
            order = ours.get(order_id)
            have = order.cum_qty if order is not None else 0
            filled = int(theirs.cum_qty)
            lost += max(filled - have, 0)
            doubled += max(have - filled, 0)
            open_here = order is not None and is_open(order)
            if open_here != (theirs.status in VENUE_OPEN):
                differs += 1
                log.error("%s: %s at the venue, %s here", order_id, theirs.status, order)
        return lost, doubled, differs

    async def hash_matches(self, store: Store, snapshots_dir: Path, symbol: str) -> bool:
        """The matcher's recovered state == one uninterrupted run of every command the bus
        accepted for the instrument (first copy of each command id, in queue order; one the
        venue failed on is answered by its refusal, as the journal records it)."""
        refused: set[str] = set()
        async for entry in store.journal.read_from(symbol, 1):
            if entry.command.get("reason") == reasons.ENGINE_ERROR:
                refused.add(entry.command_id)
        self.refused_orders += len(refused)
        self.refused_wrongly += sum(
            1 for c in refused if not engine_fails(self.seed, ENGINE_FAILURE_PER_MILLE, c)
        )
        venue, _ = await load_venue(symbol, FolderSnapshotStore(snapshots_dir), store.instruments)
        async for entry in store.journal.read_from(symbol, venue.seq + 1):
            replay(venue, entry)
        instrument = await store.instruments.get(symbol)
        assert instrument is not None
        clean = new_venue(
            symbol,
            instrument.maker_fee_cbps,
            instrument.taker_fee_cbps,
            instrument.reference_price or 0,
        )
        seen: set[str] = set()
        for sym, command_id, body in self.intake_bus.accepted:
            if sym != symbol or command_id in seen:
                continue
            seen.add(command_id)
            command: Command = decode_command(body)
            out: list[Event] = []
            if command_id in refused:
                clean.handle(outcome_record(command, reasons.ENGINE_ERROR), out)
            else:
                run_command(clean, command, out, queued=True)
            matches = matched_trades(out)
            self.clean_fills += [
                fill_execution(e, e.trade_seq in matches, instrument.settlement_days)
                for e in out
                if isinstance(e, OrderFilled)
            ]
        return bool(venue.state_hash() == clean.state_hash())

    async def risk_ledgers_match(
        self, store: Store, traders: list[Trader], orders: list[Order]
    ) -> bool:
        """Every account's risk ledger holds what its open orders hold, no more, no less: as
        many open orders, and the buying power they reserve (a group's orders, one the venue
        failed on included, gave back what they took when they ended)."""
        ok = True
        for trader in traders:
            mine = [o for o in orders if o.account_id == trader.account_id and is_open(o)]
            want = (len(mine), sum((o.reserved for o in mine), Decimal(0)))
            ledger = await store.risk.get(trader.account_id)
            have = (0, Decimal(0)) if ledger is None else (ledger.open_orders, ledger.open_notional)
            ok &= want == have
        return ok

    async def money_checks(self, store: Store, traders: list[Trader]) -> tuple[bool, bool]:
        """(conserved, same as the clean run).

        Conserved: every account's cash plus market value, at one mark per instrument, plus
        the paper market's (the counterparty of every paper fill: it got what paper buyers
        paid and holds what they bought), is what was deposited less every fee.
        Same as the clean run: every account's positions (quantities, cost basis, realized
        P&L, fees, the day's cash, unsettled cash) equal the fills of one uninterrupted run
        of the same commands applied in order, and every account's cash ledger holds its
        deposit once."""
        total = house = fees = deposited = Decimal(0)
        marks: dict[str, Mark] = {}
        instruments: dict[str, Instrument] = {}
        for symbol in self.symbols:
            instrument = await store.instruments.get(symbol)
            assert instrument is not None and instrument.reference_price
            instruments[symbol] = instrument
            marks[symbol] = Mark(instrument.reference_price, instrument.reference_price, "sim")
        same = True
        clean: dict[tuple[str, str], Position] = {}
        for fill in sorted(
            self.clean_fills, key=lambda e: (e.symbol, int(e.execution_id.rsplit("E", 1)[1]))
        ):
            key = (fill.account_id, fill.symbol)
            clean[key] = after_fill(clean.get(key, Position(*key)), fill_of(fill))
        for trader in traders:
            account = await store.accounts.get(trader.account_id)
            assert account is not None
            positions = await store.positions.list_positions(trader.account_id)
            for position in positions:
                same &= clean.get((position.account_id, position.symbol)) == position
            same &= {p.symbol for p in positions} == {s for a, s in clean if a == trader.account_id}
            ledger = await ledger_balance(self.container, trader.account_id)
            same &= ledger == DEPOSIT_EACH
            deposited += account.starting_cash + ledger
            held = [(p, instruments[p.symbol]) for p in positions]
            money = summarize(account, self.clock.now, ledger, held, marks, Decimal(0))
            total += money.equity
            fees += money.fees
            if trader.paper or trader.external:  # the other side of these fills
                for p, instrument in held:
                    grid = grid_of(instrument.tick_size, instrument.lot_size)
                    mark = instrument.reference_price or 0
                    house += grid.money(p.bought_notional - p.sold_notional - p.net_quantity * mark)
        return total + house == deposited - fees, same

    # ----------------------------------------------------------------- run

    async def run(self) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="oms-sim-") as tmp:
            data_dir = Path(tmp)
            container, store, client = await self.build(data_dir)
            self.wire(container, store, data_dir / "snapshots")
            traders = await self.make_traders(container)
            try:
                await self.drive(client, traders)
                deadline = time.monotonic() + self.settle_seconds
                settled = await self.settle(container, store, deadline)
            finally:
                await client.aclose()
            result = await self.check(store, data_dir / "snapshots", traders)
            result["settled"] = settled
            await store.close()
            return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, action="append", help="repeat for several seeds")
    parser.add_argument("--seeds", type=int, default=0, help="run seeds 1..N")
    parser.add_argument("--orders", type=int, default=2_000)
    parser.add_argument("--instruments", type=int, default=4)
    parser.add_argument("--accounts", type=int, default=12)
    parser.add_argument("--no-faults", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)
    log.setLevel(logging.ERROR)
    seeds = list(args.seed or []) + list(range(1, args.seeds + 1))
    if not seeds:
        seeds = [1]
    failed = 0
    summary: dict[str, Any] = {}
    for seed in seeds:
        started = time.perf_counter()
        sim = Simulation(seed, args.orders, args.instruments, args.accounts, not args.no_faults)
        summary = asyncio.run(sim.run())
        summary["seconds"] = round(time.perf_counter() - started, 2)
        ok = (
            summary["orders_lost"] == 0
            and summary["duplicate_orders"] == 0
            and summary["duplicate_executions"] == 0
            and summary["conservation_ok"]
            and summary["state_hash_matches_clean_run"]
            and summary["money_conserved"]
            and summary["balances_match_clean_run"]
            and summary["risk_ledgers_match_orders"]
            and summary["settled"]
            and summary["unexpected_dead_letters"] == 0
            and summary["orders_refused_wrongly"] == 0
            and summary["venue_fills_lost"] == 0
            and summary["venue_fills_doubled"] == 0
            and summary["venue_state_differs"] == 0
            and summary["venue_open_after_halt"] == 0
        )
        failed += not ok
        print(json.dumps(summary), flush=True)
    if len(seeds) > 1:
        print(json.dumps({"seeds": len(seeds), "failed": failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
