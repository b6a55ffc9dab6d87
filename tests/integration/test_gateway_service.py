"""The gateway: one owner per venue through the venue's bus session, requests from the bus
to the venue over real FIX (the simulator in its own process), connection state in the
store, and no second order when a request's outcome is unknown."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.service import GatewayService, fix_connector_factory, gateway_config
from gateway.worker import ConnectionWatch, WorkerConfig
from shared.adapters.bus_memory import InMemoryBus
from shared.adapters.factory import memory_queues
from shared.adapters.sqlite.store import open_sqlite_store
from shared.config.settings import Settings
from shared.domain.enums import OrderType, Side, TimeInForce
from shared.gateway_messages import (
    VENUE_CHANGED,
    VENUE_DEFINED,
    VENUE_DELETED,
    request_message,
    venue_notice,
)
from shared.ports.store import Store
from shared.ports.store_venues import (
    FixVenueSettings,
    VenueConnection,
    VenueDefinition,
    VenueKind,
)
from shared.ports.venue import ConnectionState, ReportKind, VenueOrder, VenueReport
from tests.support.fix_exchange import FixExchange, eventually
from tools.fix_exchange.__main__ import free_port

# QuickFIX runs threads of its own: a hang fails the test with its stacks instead.
pytestmark = pytest.mark.timeout(180)

T0 = 1_750_000_000_000_000_000


@pytest.fixture
async def exchange(tmp_path: Path) -> AsyncIterator[FixExchange]:
    sim = await FixExchange(tmp_path / "exchange").start()
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    db = await open_sqlite_store(tmp_path / "oms.sqlite3")
    yield db
    await db.close()


class Sink:
    def __init__(self) -> None:
        self.reports: list[VenueReport] = []

    def __call__(self, venue: VenueDefinition):
        async def take(report: VenueReport) -> None:
            self.reports.append(report)

        return take


def venue_for(exchange: FixExchange, **overrides) -> VenueDefinition:
    fields = {
        "name": "acme",
        "kind": VenueKind.FIX,
        "fix": FixVenueSettings("127.0.0.1", exchange.fix_port, "OMS", "EXCH", heartbeat_seconds=5),
        "credentials": (("password", "ACME_PASSWORD"),),
    }
    return VenueDefinition(**{**fields, **overrides})


def gateway(
    store, bus, settings, tmp_path, sink: Sink, watch: ConnectionWatch | None = None, **worker
) -> GatewayService:
    config = gateway_config(
        settings,
        state_dir=tmp_path / "gateway",
        scan_every=0.2,
        worker=WorkerConfig(receive_wait=0.2, status_every=0.5, **worker),
    )
    connectors = fix_connector_factory({"ACME_PASSWORD": "s3cret"})
    return GatewayService(store, bus, config, connectors=connectors, sinks=sink, watch=watch)


def order(cl_ord_id: str) -> VenueOrder:
    return VenueOrder(
        cl_ord_id, "AAPL", Side.BUY, OrderType.LIMIT, TimeInForce.DAY, Decimal(3), T0,
        price=Decimal("10.5"),
    )  # fmt: skip


async def connected(store: Store) -> bool:
    return any(c.state is ConnectionState.CONNECTED for c in await store.venues.connections())


async def test_a_defined_venue_is_connected_and_its_requests_reach_the_venue(
    exchange, store, tmp_path
):
    settings = Settings()
    bus = InMemoryBus(memory_queues(settings))
    sink = Sink()
    await store.venues.create(venue_for(exchange))
    service = gateway(store, bus, settings, tmp_path, sink)
    await service.start()
    try:
        await eventually(lambda: connected(store))
        await bus.send(settings.VENUES_QUEUE, [request_message("acme", "AAPL", order("g-1"))])
        await eventually(lambda: any(r.kind is ReportKind.NEW for r in sink.reports))
    finally:
        await service.stop()

    (placed,) = (await exchange.state())["orders"]
    assert (placed["cl_ord_id"], placed["quantity"], placed["price"]) == ("g-1", "3", "10.5")
    (record,) = await store.venues.connections()
    assert record.state is ConnectionState.DISCONNECTED  # logged out at the stop
    assert record.owner == service.config.owner
    assert not await bus.dead_letters(settings.VENUES_QUEUE)


async def test_exactly_one_of_two_gateways_holds_a_venue_and_the_other_takes_over(
    exchange, store, tmp_path
):
    settings = Settings()
    bus = InMemoryBus(memory_queues(settings))
    await store.venues.create(venue_for(exchange))
    first = gateway(store, bus, settings, tmp_path / "a", Sink())
    second = gateway(store, bus, settings, tmp_path / "a", Sink())
    await first.start()
    await eventually(lambda: connected(store))
    await second.start()
    await asyncio.sleep(1.0)  # several of the second's rounds
    assert set(first.workers) == {"acme"} and not second.workers

    await first.stop()
    await eventually(lambda: "acme" in second.workers)
    try:
        await eventually(lambda: connected(store))
    finally:
        await second.stop()
    assert (await exchange.state())["logged_on"] is False


async def test_a_request_redelivered_after_a_crash_is_not_sent_twice(exchange, store, tmp_path):
    settings = Settings()
    bus = InMemoryBus(memory_queues(settings))
    await store.venues.create(venue_for(exchange))
    sink = Sink()
    service = gateway(store, bus, settings, tmp_path, sink)
    await service.start()
    try:
        await eventually(lambda: connected(store))
        await bus.send(settings.VENUES_QUEUE, [request_message("acme", "AAPL", order("g-2"))])
        await eventually(lambda: any(r.kind is ReportKind.NEW for r in sink.reports))
        # The same request again, as when its message comes back after a crash (delivery
        # count 2): the outcome of the first send is unknown to the new holder.
        await service.workers["acme"]._send("place", "AAPL", order("g-2"), ambiguous=True)
    finally:
        await service.stop()

    state = await exchange.state()
    assert state["received"].count("D") == 1, "asked for the status instead of resending"
    assert "H" in state["received"]
    assert [r.kind for r in sink.reports] == [ReportKind.NEW, ReportKind.STATUS]


async def test_a_request_the_venue_never_answered_is_asked_about_then_resent_once(
    exchange, store, tmp_path
):
    settings = Settings()
    bus = InMemoryBus(memory_queues(settings))
    await store.venues.create(venue_for(exchange))
    sink = Sink()
    service = gateway(store, bus, settings, tmp_path, sink, ack_timeout=0.5)
    await service.start()
    try:
        await eventually(lambda: connected(store))
        await exchange.post("/arm", action="drop_new")  # lost on the way, never answered
        await bus.send(settings.VENUES_QUEUE, [request_message("acme", "AAPL", order("g-3"))])
        await eventually(lambda: any(r.kind is ReportKind.NEW for r in sink.reports))
    finally:
        await service.stop()

    state = await exchange.state()
    assert state["received"].count("D") == 2 and "H" in state["received"]
    assert len(state["orders"]) == 1


async def test_a_venue_whose_password_setting_is_missing_shows_why(exchange, store, tmp_path):
    settings = Settings()
    bus = InMemoryBus(memory_queues(settings))
    await store.venues.create(venue_for(exchange, credentials=(("password", "NOT_SET_ANYWHERE"),)))
    service = gateway(store, bus, settings, tmp_path, Sink())
    await service.start()
    try:
        await eventually(lambda: store.venues.connections())
    finally:
        await service.stop()

    (record,) = await store.venues.connections()
    assert record.state is ConnectionState.DISCONNECTED
    assert record.last_error == "the setting NOT_SET_ANYWHERE (the password) is not set"
    assert (await exchange.state())["logged_on"] is False


async def test_a_venue_that_cannot_connect_waits_before_it_is_tried_again(
    exchange, store, tmp_path
):
    """A notice in the venue's session (its definition wakes the gateways) does not make
    the gateway retry a venue it cannot connect in a busy loop: it waits
    `retry_failed_after`, as for a venue found by the scan."""
    settings = Settings()
    bus = InMemoryBus(memory_queues(settings))
    await store.venues.create(venue_for(exchange, credentials=(("password", "NOT_SET_ANYWHERE"),)))
    await bus.send(settings.VENUES_QUEUE, [venue_notice(VENUE_DEFINED, "acme", 1)])
    service = gateway(store, bus, settings, tmp_path, Sink())
    attempts = 0
    connectors = service._connectors

    def counted(venue, state_dir):
        nonlocal attempts
        attempts += 1
        return connectors(venue, state_dir)

    service._connectors = counted
    await service.start()
    try:
        await eventually(lambda: store.venues.connections())
        await asyncio.sleep(1.0)  # many scans (every 0.2 s), far less than 30 s
    finally:
        await service.stop()
    assert attempts == 1
    (record,) = await store.venues.connections()
    assert record.last_error == "the setting NOT_SET_ANYWHERE (the password) is not set"


async def test_a_changed_venue_is_reconnected_as_now_defined_and_a_deleted_one_let_go(
    exchange, store, tmp_path
):
    settings = Settings()
    bus = InMemoryBus(memory_queues(settings))
    wrong = FixVenueSettings("127.0.0.1", free_port(), "OMS", "EXCH", heartbeat_seconds=5)
    await store.venues.create(venue_for(exchange, fix=wrong))
    service = gateway(store, bus, settings, tmp_path, Sink())
    await service.start()
    try:
        await eventually(lambda: "acme" in service.workers)
        venue = await store.venues.get("acme")
        assert venue is not None and venue.fix is not None
        right = dataclasses.replace(venue.fix, port=exchange.fix_port)
        await store.venues.update(dataclasses.replace(venue, fix=right), venue.version)
        await bus.send(settings.VENUES_QUEUE, [venue_notice(VENUE_CHANGED, "acme", 1)])
        await eventually(lambda: connected(store))
        assert (await exchange.state())["logged_on"] is True

        await store.venues.delete("acme", 1)
        await bus.send(settings.VENUES_QUEUE, [venue_notice(VENUE_DELETED, "acme", 2)])
        await eventually(lambda: not service.workers)
        await asyncio.sleep(0.5)  # a few of the gateway's rounds: it does not take it again
        assert not service.workers
    finally:
        await service.stop()
    assert (await exchange.state())["logged_on"] is False


async def test_every_connection_reconciles_the_venues_open_orders_into_the_sink(
    exchange, store, tmp_path
):
    """On each logon the gateway asks for every open order (OrderMassStatusRequest) and
    hands the answers to the sink: status answers, never fills; an order we never sent is
    among them (the instrument's writer reports it to admins)."""
    settings = Settings()
    bus = InMemoryBus(memory_queues(settings))
    sink = Sink()
    await store.venues.create(venue_for(exchange))
    foreign = await exchange.post("/foreign", symbol="AAPL", side="buy", quantity="7", price="9")
    service = gateway(store, bus, settings, tmp_path, sink)
    await service.start()
    try:
        await eventually(lambda: service.workers.get("acme") is not None)
        worker = service.workers["acme"]
        await eventually(lambda: worker.reconciliations == 1)
        answers = [r for r in sink.reports if r.kind is ReportKind.STATUS]
        assert [r.cl_ord_id for r in answers] == [foreign["cl_ord_id"]]
        assert not any(r.is_fill for r in answers) and answers[0].cum_qty == 0

        await exchange.post("/drop")  # the venue drops us; we log on again and reconcile
        await eventually(lambda: worker.reconciliations == 2, timeout=60)
        answers = [r for r in sink.reports if r.kind is ReportKind.STATUS]
        assert [r.cl_ord_id for r in answers] == [foreign["cl_ord_id"]] * 2
    finally:
        await service.stop()


async def test_admins_are_told_when_a_venue_goes_down_or_comes_back_and_only_then(
    exchange, store, tmp_path
):
    settings = Settings()
    bus = InMemoryBus(memory_queues(settings))
    told: list[tuple[str, str | None]] = []

    async def watch(now: VenueConnection) -> None:
        up = now.state is ConnectionState.CONNECTED
        told.append(("connected" if up else "disconnected", now.last_error))

    def heard() -> list[str]:
        return [state for state, _ in told]

    await store.venues.create(venue_for(exchange))
    service = gateway(store, bus, settings, tmp_path, Sink(), watch)
    await service.start()
    try:
        await eventually(lambda: heard() == ["connected"])
        await exchange.post("/drop", refuse_logon=True)  # down, and logons refused a while
        await eventually(lambda: heard() == ["connected", "disconnected"])
        await asyncio.sleep(3)  # the back-off's attempts meanwhile are not news
        assert heard() == ["connected", "disconnected"]
        await exchange.post("/allow")
        await eventually(lambda: heard() == ["connected", "disconnected", "connected"])
    finally:
        await service.stop()
    assert heard() == ["connected", "disconnected", "connected"]  # a planned stop is not news

    # A gateway that starts while the venue refuses it: admins hear it once.
    await exchange.post("/drop", refuse_logon=True)
    told.clear()
    again = gateway(store, bus, settings, tmp_path, Sink(), watch)
    await again.start()
    try:
        await eventually(lambda: heard() == ["disconnected"])
        await asyncio.sleep(2)
        assert heard() == ["disconnected"]
    finally:
        await again.stop()
