"""The FIX 4.4 connector against the FIX exchange simulator: both QuickFIX, real TCP on
loopback, the simulator in its own process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
import quickfix as fix

from gateway.fix.connector import FixConnector
from gateway.fix.session import SessionConfig
from shared.domain.enums import OrderType, Side, TimeInForce
from shared.ports.venue import (
    ConnectionState,
    ReportKind,
    VenueCancel,
    VenueOrder,
    VenueOrdStatus,
    VenueReplace,
    VenueReport,
    VenueUnavailable,
)
from tests.support.fix_exchange import FixExchange, eventually

# QuickFIX runs threads of its own: a hang fails the test with its stacks instead.
pytestmark = pytest.mark.timeout(180)

T0 = 1_750_000_000_000_000_000


class Reports:
    """The sink: every report in arrival order."""

    def __init__(self) -> None:
        self.items: list[VenueReport] = []

    async def __call__(self, report: VenueReport) -> None:
        self.items.append(report)

    def of(self, cl_ord_id: str, kind: ReportKind | None = None) -> list[VenueReport]:
        return [
            r
            for r in self.items
            if (r.cl_ord_id == cl_ord_id or r.orig_cl_ord_id == cl_ord_id)
            and (kind is None or r.kind is kind)
        ]

    def fills(self) -> dict[str, VenueReport]:
        """Fills by exec id: what a consumer that applies each exec id once would apply."""
        return {r.exec_id: r for r in self.items if r.is_fill}


def order(cl_ord_id: str, quantity: str = "10", price: str = "101.25") -> VenueOrder:
    return VenueOrder(
        cl_ord_id=cl_ord_id,
        symbol="AAPL",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        quantity=Decimal(quantity),
        price=Decimal(price),
        transact_time=T0,
    )


def connector_for(exchange: FixExchange, store: Path, **kwargs) -> FixConnector:
    config = SessionConfig(
        host="127.0.0.1",
        port=exchange.fix_port,
        sender_comp_id="OMS",
        target_comp_id="EXCH",
        store_dir=store,
        heartbeat_seconds=5,
    )
    return FixConnector("acme", config, **kwargs)


@pytest.fixture
async def exchange(tmp_path: Path) -> AsyncIterator[FixExchange]:
    sim = await FixExchange(tmp_path / "exchange").start()
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def venue(
    exchange: FixExchange, tmp_path: Path
) -> AsyncIterator[tuple[FixConnector, Reports]]:
    reports = Reports()
    connector = connector_for(exchange, tmp_path / "oms", logon_timeout=5, first_backoff=0.2)
    await connector.start(reports)
    try:
        assert await connector.wait_connected(20)
        yield connector, reports
    finally:
        await connector.stop()
    # Its session left QuickFIX's process-wide registry: the venue can be connected again.
    assert fix.Session.lookupSession(fix.SessionID("FIX.4.4", "OMS", "EXCH")) is None


async def test_a_new_order_is_acknowledged_then_filled_in_parts(venue, exchange):
    connector, reports = venue
    await connector.place(order("o-1", "10"))
    await eventually(lambda: reports.of("o-1", ReportKind.NEW))

    await exchange.post("/fill", cl_ord_id="o-1", quantity="4", price="101.25")
    await exchange.post("/fill", cl_ord_id="o-1", quantity="6", price="101.00")
    await eventually(lambda: len(reports.of("o-1", ReportKind.TRADE)) == 2)

    new = reports.of("o-1", ReportKind.NEW)[0]
    first, second = reports.of("o-1", ReportKind.TRADE)
    assert new.venue_order_id and new.ord_status is VenueOrdStatus.NEW
    assert (first.last_qty, first.last_px, first.cum_qty) == (Decimal(4), Decimal("101.25"), 4)
    assert first.ord_status is VenueOrdStatus.PARTIALLY_FILLED and first.is_fill
    assert (second.cum_qty, second.leaves_qty) == (Decimal(10), Decimal(0))
    assert second.ord_status is VenueOrdStatus.FILLED
    assert second.avg_px == Decimal("101.1")
    assert first.exec_id != second.exec_id
    assert connector.connection.state is ConnectionState.CONNECTED


async def test_replace_then_cancel_follow_the_client_order_id_chain(venue, exchange):
    connector, reports = venue
    await connector.place(order("o-2", "10", "100"))
    await eventually(lambda: reports.of("o-2", ReportKind.NEW))
    replace = VenueReplace(
        cl_ord_id="o-2.r1",
        orig_cl_ord_id="o-2",
        symbol="AAPL",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        quantity=Decimal(7),
        price=Decimal("99.5"),
        transact_time=T0 + 1,
    )
    await connector.replace(replace)
    await eventually(lambda: reports.of("o-2.r1", ReportKind.REPLACED))
    cancel = VenueCancel("o-2.c2", "o-2.r1", "AAPL", Side.BUY, Decimal(7), T0 + 2)
    await connector.cancel(cancel)
    await eventually(lambda: reports.of("o-2.c2", ReportKind.CANCELED))

    replaced = reports.of("o-2.r1", ReportKind.REPLACED)[0]
    canceled = reports.of("o-2.c2", ReportKind.CANCELED)[0]
    assert replaced.orig_cl_ord_id == "o-2" and replaced.order_qty == Decimal(7)
    assert replaced.price == Decimal("99.5")
    assert canceled.orig_cl_ord_id == "o-2.r1" and canceled.ord_status is VenueOrdStatus.CANCELED
    assert canceled.leaves_qty == 0
    assert (await exchange.order("o-2.c2"))["status"] == "4"


async def test_a_venue_reject_carries_the_venues_own_text(venue, exchange):
    connector, reports = venue
    await exchange.post("/arm", action="reject_new", text="symbol halted at the exchange")
    await connector.place(order("o-3"))
    await eventually(lambda: reports.of("o-3", ReportKind.REJECTED))

    reject = reports.of("o-3", ReportKind.REJECTED)[0]
    assert reject.text == "symbol halted at the exchange"
    assert reject.ord_status is VenueOrdStatus.REJECTED and not reject.is_fill


async def test_a_refused_cancel_is_a_cancel_reject_with_reason(venue, exchange):
    connector, reports = venue
    await connector.place(order("o-4"))
    await eventually(lambda: reports.of("o-4", ReportKind.NEW))
    await exchange.post("/arm", action="reject_cancel", text="cancel window closed")
    await connector.cancel(VenueCancel("o-4.c1", "o-4", "AAPL", Side.BUY, Decimal(10), T0))
    await connector.cancel(VenueCancel("x.c1", "never-sent", "AAPL", Side.BUY, Decimal(1), T0))
    await eventually(lambda: len(reports.of("o-4.c1") + reports.of("x.c1")) == 2)

    refused = reports.of("o-4.c1", ReportKind.CANCEL_REJECTED)[0]
    unknown = reports.of("x.c1", ReportKind.CANCEL_REJECTED)[0]
    assert (refused.text, refused.orig_cl_ord_id) == ("cancel window closed", "o-4")
    assert refused.ord_status is VenueOrdStatus.NEW  # still working at the venue
    assert (unknown.reject_code, unknown.text) == ("1", "unknown order")
    assert (await exchange.order("o-4"))["status"] == "0"


async def test_status_answers_are_never_fills(venue, exchange):
    connector, reports = venue
    await connector.place(order("o-5", "10"))
    await eventually(lambda: reports.of("o-5", ReportKind.NEW))
    await exchange.post("/fill", cl_ord_id="o-5", quantity="3")
    await eventually(lambda: reports.of("o-5", ReportKind.TRADE))
    await exchange.post("/foreign", symbol="MSFT", side="sell", quantity="5", price="300")

    known = await connector.status("o-5", "AAPL", Side.BUY, timeout=10)
    unknown = await connector.status("nobody", "AAPL", Side.BUY, timeout=10)
    open_orders = await connector.open_orders(timeout=10)

    assert known.kind is ReportKind.STATUS and not known.is_fill and known.exec_id == "0"
    assert (known.cum_qty, known.leaves_qty) == (Decimal(3), Decimal(7))
    assert unknown.ord_status is VenueOrdStatus.REJECTED and unknown.reject_code == "5"
    assert {r.cl_ord_id for r in open_orders} == {"o-5", "FOREIGN-V2"}
    assert all(r.kind is ReportKind.STATUS and not r.is_fill for r in open_orders)
    # Status answers went to the caller, not to the sink; the sink has one fill.
    assert len(reports.fills()) == 1 and not [
        r for r in reports.items if r.kind is ReportKind.STATUS
    ]


async def test_fills_during_an_outage_arrive_once_after_the_reconnect(venue, exchange):
    connector, reports = venue
    await connector.place(order("o-6", "10"))
    await connector.place(order("o-7", "5"))
    await eventually(
        lambda: reports.of("o-6", ReportKind.NEW) and reports.of("o-7", ReportKind.NEW)
    )

    await exchange.post("/drop", refuse_logon=True)
    await eventually(lambda: connector.connection.state is not ConnectionState.CONNECTED)
    with pytest.raises(VenueUnavailable):
        await connector.place(order("o-8"))
    await exchange.post("/fill", cl_ord_id="o-6", quantity="4")
    await exchange.post("/fill", cl_ord_id="o-6", quantity="6")
    await exchange.post("/fill", cl_ord_id="o-7", quantity="5")
    await asyncio.sleep(1.0)
    assert not reports.fills()  # nothing arrives while the venue is away
    await exchange.post("/allow")

    await eventually(lambda: len(reports.fills()) == 3, timeout=30)
    fills = reports.fills()
    assert all(f.poss_dup for f in fills.values()), "the session layer resent them"
    assert sum(f.last_qty for f in fills.values() if f.cl_ord_id == "o-6") == 10
    assert sum(f.last_qty for f in fills.values() if f.cl_ord_id == "o-7") == 5
    assert len([r for r in reports.items if r.is_fill]) == 3  # each exactly once
    assert connector.reconnects >= 1 and connector.connection.state is ConnectionState.CONNECTED


async def test_reports_resent_as_possible_duplicates_keep_their_exec_ids(venue, exchange):
    connector, reports = venue
    await connector.place(order("o-9", "10"))
    await eventually(lambda: reports.of("o-9", ReportKind.NEW))
    await exchange.post("/fill", cl_ord_id="o-9", quantity="10")
    await eventually(lambda: reports.of("o-9", ReportKind.TRADE))

    await exchange.post("/duplicate", cl_ord_id="o-9", flag="poss_dup")
    await exchange.post("/duplicate", cl_ord_id="o-9", flag="poss_resend")
    await eventually(lambda: len(reports.of("o-9")) == 6)

    trades = reports.of("o-9", ReportKind.TRADE)
    assert len(trades) == 3 and len({t.exec_id for t in trades}) == 1
    assert [(t.poss_dup, t.poss_resend) for t in trades] == [
        (False, False),
        (True, False),
        (False, True),
    ]
    assert sum(f.last_qty for f in reports.fills().values()) == 10  # applied once by exec id


async def test_a_throttled_order_is_sent_again_after_backing_off(venue, exchange):
    connector, reports = venue
    await exchange.post("/arm", action="throttle_new", text="throttled: 10 msgs/s")
    await connector.place(order("o-10"))
    await eventually(lambda: reports.of("o-10", ReportKind.NEW))

    assert not reports.of("o-10", ReportKind.REJECTED)
    assert (await exchange.state())["received"].count("D") == 2
    assert len([o for o in (await exchange.state())["orders"] if o["cl_ord_id"] == "o-10"]) == 1


async def test_every_exec_type_reaches_the_sink_by_name(venue, exchange):
    connector, reports = venue
    await exchange.post("/mode", pending_first=True)
    await connector.place(order("o-11", "10"))
    await eventually(lambda: reports.of("o-11", ReportKind.NEW))
    await exchange.post("/fill", cl_ord_id="o-11", quantity="2")
    for exec_type in ("B", "D", "G", "H", "7", "9"):
        await exchange.post("/report", cl_ord_id="o-11", exec_type=exec_type, ref="X3")
    replace = VenueReplace(
        "o-11.r", "o-11", "AAPL", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, Decimal(8), T0
    )
    await connector.replace(replace)
    await eventually(lambda: reports.of("o-11.r", ReportKind.REPLACED))
    await exchange.post("/report", cl_ord_id="o-11.r", exec_type="3")
    await eventually(lambda: reports.of("o-11.r", ReportKind.DONE_FOR_DAY))
    await connector.place(order("o-12", "1"))
    await eventually(lambda: reports.of("o-12", ReportKind.NEW))
    await connector.cancel(VenueCancel("o-12.c", "o-12", "AAPL", Side.BUY, Decimal(1), T0))
    await connector.place(order("o-13", "1"))
    await eventually(lambda: reports.of("o-13", ReportKind.NEW))
    await exchange.post("/report", cl_ord_id="o-13", exec_type="C")
    await eventually(
        lambda: reports.of("o-13", ReportKind.EXPIRED) and reports.of("o-12.c", ReportKind.CANCELED)
    )

    kinds = {r.kind for r in reports.items}
    assert kinds >= set(ReportKind) - {
        ReportKind.STATUS,
        ReportKind.REJECTED,
        ReportKind.CANCEL_REJECTED,
        ReportKind.UNDELIVERED,
    }
    correction = reports.of("o-11", ReportKind.TRADE_CORRECT)[0]
    assert correction.exec_ref_id == "X3" and not correction.is_fill
    assert [r.is_fill for r in reports.items].count(True) == 1


async def test_a_restarted_connector_continues_the_sequence_and_gets_what_it_missed(
    exchange, tmp_path
):
    store = tmp_path / "oms"
    reports = Reports()
    first = connector_for(exchange, store, logon_timeout=5, first_backoff=0.2)
    await first.start(reports)
    assert await first.wait_connected(20)
    await first.place(order("o-14", "10"))
    await eventually(lambda: reports.of("o-14", ReportKind.NEW))
    await first.stop()

    await exchange.post("/fill", cl_ord_id="o-14", quantity="10")  # while we are away
    again = Reports()
    second = connector_for(exchange, store, logon_timeout=5, first_backoff=0.2)
    await second.start(again)
    try:
        assert await second.wait_connected(20)
        await eventually(lambda: again.fills())
    finally:
        await second.stop()

    (fill,) = again.fills().values()
    assert fill.cl_ord_id == "o-14" and fill.last_qty == 10 and fill.poss_dup
    assert not again.of("o-14", ReportKind.NEW), "what we had taken is not sent again"


async def test_an_unreachable_venue_is_disconnected_with_the_reason(tmp_path):
    closed = FixExchange(tmp_path / "none")
    closed.fix_port = 1  # nothing listens on port 1
    connector = connector_for(closed, tmp_path / "oms", logon_timeout=1, first_backoff=0.1)
    await connector.start(Reports())
    try:
        await eventually(lambda: connector.connection.state is ConnectionState.DISCONNECTED)
        await eventually(lambda: connector.connection.last_error is not None)
        assert "cannot connect to 127.0.0.1:1" in (connector.connection.last_error or "")
        with pytest.raises(VenueUnavailable):
            await connector.place(order("o-15"))
    finally:
        await connector.stop()


async def test_a_stale_order_the_venue_asks_for_again_is_not_resent_but_reported(venue, exchange):
    connector, reports = venue
    await connector.place(order("o-16", "2"))
    await eventually(lambda: reports.of("o-16", ReportKind.NEW))
    sent_seq = (await exchange.state())["received"].index("D") + 2  # after the Logon (1)
    connector._resend_max_age = 0.2  # a resend now comes "late"
    await asyncio.sleep(0.5)

    await exchange.post("/rewind", seq=sent_seq)  # the venue "missed" the order
    known = await connector.status("o-16", "AAPL", Side.BUY, timeout=10)  # shows the gap
    await eventually(lambda: reports.of("o-16", ReportKind.UNDELIVERED))

    (undelivered,) = reports.of("o-16", ReportKind.UNDELIVERED)
    assert "not resent" in undelivered.text and not undelivered.is_fill
    assert (await exchange.state())["received"].count("D") == 1, "gap-filled, never resent"
    assert known.kind is ReportKind.STATUS
