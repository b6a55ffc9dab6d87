"""FIX 4.4 messages to and from the venue port's types: decimal strings, never floats."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.fix import codec
from shared.domain.enums import OrderType, Side, TimeInForce
from shared.ports.venue import ReportKind, VenueOrder, VenueOrdStatus

T0 = 1_750_000_000_123_000_000


def test_a_new_order_keeps_its_quantity_and_price_as_written():
    order = VenueOrder(
        "ord-1", "BTCUSD", Side.SELL, OrderType.STOP_LIMIT, TimeInForce.GTD,
        Decimal("0.00012345"), T0, price=Decimal("65000.50"), stop_price=Decimal("65100"),
        expire_at=T0 + 3_600_000_000_000, account="desk-7", resend=True,
    )  # fmt: skip
    msg_type, fields = codec.new_order_single(order)
    tags = dict(fields)

    assert msg_type == "D"
    assert tags[codec.ORDER_QTY] == "0.00012345" and tags[codec.PRICE] == "65000.5"
    assert tags[codec.STOP_PX] == "65100" and tags[codec.SIDE] == "2"
    assert (tags[codec.ORD_TYPE], tags[codec.TIME_IN_FORCE]) == ("4", "6")
    assert tags[codec.TRANSACT_TIME] == "20250615-15:06:40.123"
    assert tags[codec.EXPIRE_TIME] == "20250615-16:06:40.123"
    assert tags[codec.POSS_RESEND] == "Y" and tags[codec.ACCOUNT] == "desk-7"


def test_a_market_order_carries_no_price():
    order = VenueOrder("o", "AAPL", Side.BUY, OrderType.MARKET, TimeInForce.IOC, Decimal(5), T0)
    tags = dict(codec.new_order_single(order)[1])
    assert codec.PRICE not in tags and codec.STOP_PX not in tags
    assert codec.POSS_RESEND not in tags


def test_an_execution_report_is_read_from_its_raw_text():
    raw = codec.SOH.join(
        ["8=FIX.4.4", "35=8", "34=12", "43=Y", "37=V9", "11=ord-1", "17=X77", "150=F", "39=1",
         "55=AAPL", "54=1", "38=10", "32=4", "31=101.25", "14=4", "151=6", "6=101.25",
         "60=20250615-15:06:40.123", "58=partial", ""]
    )  # fmt: skip
    report = codec.execution_report("acme", codec.parse(raw))

    assert report.kind is ReportKind.TRADE and report.is_fill
    assert report.ord_status is VenueOrdStatus.PARTIALLY_FILLED
    assert (report.last_qty, report.last_px) == (Decimal(4), Decimal("101.25"))
    assert (report.cum_qty, report.leaves_qty, report.order_qty) == (
        Decimal(4),
        Decimal(6),
        Decimal(10),
    )
    assert report.poss_dup and not report.poss_resend and report.seq_num == 12
    assert report.transact_time == T0 and report.side is Side.BUY


def test_a_status_answer_is_never_a_fill_even_when_it_says_trade():
    fields = {150: "I", 39: "2", 17: "0", 11: "o", 14: "10", 151: "0"}
    assert not codec.execution_report("v", fields).is_fill
    assert not codec.execution_report("v", {**fields, 150: "F"}).is_fill  # ExecID "0"


def test_an_exec_type_fix_4_4_does_not_define_is_refused():
    with pytest.raises(ValueError, match="ExecType"):
        codec.execution_report("v", {150: "1", 11: "o"})  # FIX 4.2's partial fill


def test_throttling_is_recognised_from_the_venues_words():
    assert codec.is_throttle("Throttled: 10 msgs/s")
    assert codec.is_throttle("rate limit exceeded")
    assert not codec.is_throttle("unknown symbol")
