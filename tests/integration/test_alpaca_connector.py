"""The Alpaca connector (official alpaca-py: TradingClient + TradingStream) against a local
stand-in of Alpaca's paper Trading API (tests/support/alpaca_standin.py: real HTTP and a real
WebSocket on a loopback port, Alpaca's documented responses). The same behaviour against
Alpaca's real paper environment: tests/contract/test_alpaca_paper.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from gateway.alpaca.connector import AlpacaConnector
from gateway.ratelimit import TokenBucket
from gateway.service import GatewayService, gateway_config, venue_connector_factory
from gateway.worker import WorkerConfig
from shared.adapters.bus_memory import InMemoryBus
from shared.adapters.factory import memory_queues
from shared.adapters.sqlite.store import open_sqlite_store
from shared.config.settings import Settings
from shared.domain.enums import OrderType, Side, TimeInForce
from shared.gateway_messages import request_message
from shared.ports.store import Store
from shared.ports.store_venues import AlpacaVenueSettings, VenueDefinition, VenueKind
from shared.ports.venue import (
    ConnectionState,
    ReportKind,
    VenueCancel,
    VenueOrder,
    VenueOrdStatus,
    VenueReplace,
    VenueReport,
)
from tests.support.alpaca_standin import StandIn
from tests.support.fix_exchange import eventually

pytestmark = pytest.mark.timeout(120)

T0 = 1_750_000_000_000_000_000


class Reports:
    def __init__(self) -> None:
        self.items: list[VenueReport] = []

    async def __call__(self, report: VenueReport) -> None:
        self.items.append(report)

    def of(self, cl_ord_id: str, kind: ReportKind) -> list[VenueReport]:
        return [r for r in self.items if r.cl_ord_id == cl_ord_id and r.kind is kind]


def order(cl_ord_id: str, qty: str = "10", price: str = "101.25") -> VenueOrder:
    return VenueOrder(
        cl_ord_id, "AAPL", Side.BUY, OrderType.LIMIT, TimeInForce.DAY, Decimal(qty), T0,
        price=Decimal(price),
    )  # fmt: skip


@pytest.fixture
async def alpaca() -> AsyncIterator[StandIn]:
    server = await StandIn("PKTEST", "secret-test").start()
    yield server
    await server.stop()


async def control(server: StandIn, path: str, **body: object) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        (await client.post(f"/control/{path}", json=body)).raise_for_status()


@pytest.fixture
async def venue(alpaca: StandIn) -> AsyncIterator[tuple[AlpacaConnector, Reports]]:
    reports = Reports()
    connector = AlpacaConnector(
        "broker",
        "PKTEST",
        "secret-test",
        environment="custom",
        base_url=alpaca.url,
        bucket=TokenBucket(50, 50, first_pause=0.05),
        request_timeout=2.0,
    )
    await connector.start(reports)
    try:
        assert await connector.wait_connected(20)
        yield connector, reports
    finally:
        await connector.stop()


async def test_an_order_is_acknowledged_and_filled_in_parts_with_exact_decimals(venue, alpaca):
    connector, reports = venue
    await connector.place(order("a-1", "10"))
    await eventually(lambda: reports.of("a-1", ReportKind.NEW))
    await control(alpaca, "fill", client_order_id="a-1", qty="4", price="101.25")
    await control(alpaca, "fill", client_order_id="a-1", qty="6", price="101.1")
    await eventually(lambda: len(reports.of("a-1", ReportKind.TRADE)) == 2)

    new = reports.of("a-1", ReportKind.NEW)[0]
    first, second = reports.of("a-1", ReportKind.TRADE)
    assert new.venue_order_id and new.ord_status is VenueOrdStatus.NEW
    assert (first.last_qty, first.last_px, first.cum_qty, first.leaves_qty) == (
        Decimal(4), Decimal("101.25"), Decimal(4), Decimal(6),
    )  # fmt: skip
    assert first.is_fill and first.ord_status is VenueOrdStatus.PARTIALLY_FILLED
    assert (second.cum_qty, second.leaves_qty, second.avg_px) == (
        Decimal(10), Decimal(0), Decimal("101.16"),
    )  # fmt: skip
    assert second.ord_status is VenueOrdStatus.FILLED and first.exec_id != second.exec_id
    assert connector.connection.state is ConnectionState.CONNECTED


async def test_status_and_open_orders_answer_by_client_order_id_and_are_never_fills(venue, alpaca):
    connector, reports = venue
    await connector.place(order("a-2", "10"))
    await control(alpaca, "fill", client_order_id="a-2", qty="3", price="101")
    await eventually(lambda: reports.of("a-2", ReportKind.TRADE))

    known = await connector.status("a-2", "AAPL", Side.BUY, timeout=5)
    unknown = await connector.status("nobody", "AAPL", Side.BUY, timeout=5)
    (listed,) = await connector.open_orders(timeout=5)

    assert known.kind is ReportKind.STATUS and not known.is_fill and known.exec_id == "0"
    assert (known.cum_qty, known.leaves_qty) == (Decimal(3), Decimal(7))
    assert (unknown.ord_status, unknown.reject_code) == (VenueOrdStatus.REJECTED, "5")
    assert listed.cl_ord_id == "a-2" and not listed.is_fill


async def test_sending_an_order_again_never_makes_a_second_order(venue, alpaca):
    connector, reports = venue
    await connector.place(order("a-3"))
    await connector.place(order("a-3"))  # a retry: Alpaca refuses the client order id again

    await eventually(lambda: reports.of("a-3", ReportKind.STATUS))
    assert [o["client_order_id"] for o in alpaca.orders.values()] == ["a-3"]
    assert alpaca.posts == 2


async def test_a_reject_carries_alpacas_own_message(venue, alpaca):
    connector, reports = venue
    await control(alpaca, "arm", reject="insufficient buying power")
    await connector.place(order("a-4"))

    (reject,) = reports.of("a-4", ReportKind.REJECTED)
    assert (reject.text, reject.reject_code) == ("insufficient buying power", "40310000")
    assert reject.ord_status is VenueOrdStatus.REJECTED and not reject.is_fill


async def test_replace_then_cancel_follow_the_client_order_id_chain(venue, alpaca):
    connector, reports = venue
    await connector.place(order("a-5", "10", "100"))
    await eventually(lambda: reports.of("a-5", ReportKind.NEW))
    replace = VenueReplace(
        "a-5.1", "a-5", "AAPL", Side.BUY, OrderType.LIMIT, TimeInForce.DAY, Decimal(7), T0,
        price=Decimal("99.5"),
    )  # fmt: skip
    await connector.replace(replace)
    await eventually(lambda: reports.of("a-5.1", ReportKind.NEW))
    await connector.cancel(VenueCancel("a-5.2", "a-5.1", "AAPL", Side.BUY, Decimal(7), T0))
    await eventually(lambda: reports.of("a-5.2", ReportKind.CANCELED))
    await connector.cancel(VenueCancel("a-5.3", "a-5.1", "AAPL", Side.BUY, Decimal(7), T0))

    replaced = reports.of("a-5.1", ReportKind.REPLACED)
    assert len({r.exec_id for r in replaced}) == 1  # answer and stream event: one report
    assert (replaced[0].orig_cl_ord_id, replaced[0].order_qty) == ("a-5", Decimal(7))
    assert replaced[0].price == Decimal("99.5")
    (canceled,) = reports.of("a-5.2", ReportKind.CANCELED)
    assert canceled.orig_cl_ord_id == "a-5.1" and canceled.ord_status is VenueOrdStatus.CANCELED
    (refused,) = reports.of("a-5.3", ReportKind.CANCEL_REJECTED)
    assert (refused.text, refused.orig_cl_ord_id) == ("order is not cancelable", "a-5.1")


async def test_throttling_backs_off_and_the_order_goes_through_once(venue, alpaca):
    connector, reports = venue
    await control(alpaca, "arm", throttle=2)

    await connector.place(order("a-6"))

    await eventually(lambda: reports.of("a-6", ReportKind.NEW))
    assert connector._bucket.back_offs == 2 and alpaca.posts == 3
    assert len(alpaca.orders) == 1


async def test_an_answer_that_never_came_is_settled_by_asking_not_by_sending_again(venue, alpaca):
    connector, reports = venue
    await control(alpaca, "arm", stall=1, stall_seconds=4)  # placed, answered too late

    await connector.place(order("a-7"))

    assert alpaca.posts == 1 and len(alpaca.orders) == 1
    (status,) = reports.of("a-7", ReportKind.STATUS)
    assert status.venue_order_id and not status.is_fill


async def test_fills_while_the_stream_was_down_are_recovered_on_reconnect(venue, alpaca):
    connector, reports = venue
    await connector.place(order("a-8", "10"))
    await control(alpaca, "fill", client_order_id="a-8", qty="2", price="101")
    await eventually(lambda: reports.of("a-8", ReportKind.TRADE))
    catch_ups = connector.catch_ups

    await control(alpaca, "drop_stream", refuse_seconds=1.5)
    await eventually(lambda: connector.connection.state is not ConnectionState.CONNECTED)
    await control(alpaca, "fill", client_order_id="a-8", qty="8", price="101.5")  # unseen
    await eventually(lambda: connector.catch_ups > catch_ups, timeout=30)

    fills = reports.of("a-8", ReportKind.TRADE)
    gap = [f for f in fills if f.cum_qty == Decimal(10)]
    assert gap and all(f.poss_dup for f in gap) and gap[0].last_qty == Decimal(8)
    # A consumer applying by cum qty sees 2 then 10: nothing lost, nothing doubled.
    applied, cum = Decimal(0), Decimal(0)
    for fill in fills:
        if fill.cum_qty > cum:
            applied, cum = applied + fill.cum_qty - cum, fill.cum_qty
    stored = alpaca.by_client("a-8")
    assert stored is not None and applied == Decimal(10) == Decimal(stored["filled_qty"])
    assert connector.connection.state is ConnectionState.CONNECTED


async def connected(store: Store) -> bool:
    return any(c.state is ConnectionState.CONNECTED for c in await store.venues.connections())


async def test_the_gateway_holds_an_alpaca_venue_and_sends_it_the_bus_requests(alpaca, tmp_path):
    settings = Settings()
    bus = InMemoryBus(memory_queues(settings))
    store = await open_sqlite_store(tmp_path / "oms.sqlite3")
    reports = Reports()
    venue = VenueDefinition(
        "broker",
        VenueKind.ALPACA,
        alpaca=AlpacaVenueSettings("custom", alpaca.url),
        credentials=(("key_id", "BROKER_KEY_ID"), ("secret_key", "BROKER_SECRET_KEY")),
    )
    await store.venues.create(venue)
    connectors = venue_connector_factory(
        {"BROKER_KEY_ID": "PKTEST", "BROKER_SECRET_KEY": "secret-test"}
    )
    config = gateway_config(
        settings, state_dir=tmp_path / "gw", scan_every=0.2,
        worker=WorkerConfig(receive_wait=0.2, status_every=0.5),
    )  # fmt: skip
    service = GatewayService(store, bus, config, connectors=connectors, sinks=lambda v: reports)
    await service.start()
    try:
        await bus.send(settings.VENUES_QUEUE, [request_message("broker", "AAPL", order("g-1"))])
        await eventually(lambda: reports.of("g-1", ReportKind.NEW))
        await eventually(lambda: connected(store))
    finally:
        await service.stop()
        await store.close()
    assert [o["client_order_id"] for o in alpaca.orders.values()] == ["g-1"]
