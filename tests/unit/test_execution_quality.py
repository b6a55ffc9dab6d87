"""Execution quality of one order, worked by hand: fill price, fees, fill rate, latencies
from the matcher's processing times, and slippage and implementation shortfall against an
arrival price (signed so that positive is a cost)."""

from __future__ import annotations

from decimal import Decimal

from shared.domain.enums import OrderType, Side, TimeInForce
from shared.domain.events import OrderAccepted, OrderCanceled, OrderFilled
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.services.analytics import aggregate, percentile, quality

ABC = Instrument("ABC", Decimal("0.01"), Decimal("1"))
MS = 1_000_000
T = 1_700_000_000_000_000_000


def order(side: Side) -> Order:
    """10 ordered at T; accepted 2 ms later; filled 4 at 100.10 (6 ms) and 2 at 100.40
    (9 ms), fees 0.02 each; the rest canceled 12 ms after receipt."""
    o = Order("o1", "c1", "a", "ABC", side, OrderType.LIMIT, TimeInForce.GTC, 10, 10_100, None, T)
    s = side.value
    o.apply(OrderAccepted("ABC", 1, T, "o1", "a", 1, "new", s, "limit", 10, 10_100, 0), T + 2 * MS)
    for n, (qty, px, cum, at) in enumerate(((4, 10_010, 4, 6), (2, 10_040, 6, 9)), start=2):
        fill = OrderFilled(
            "ABC",
            n,
            T,
            "o1",
            "a",
            n,
            "partially_filled",
            s,
            qty,
            px,
            10 - cum,
            cum,
            "taker",
            2_000_000,
            n,
        )
        o.apply(fill, T + at * MS)
    o.apply(OrderCanceled("ABC", 4, T, "o1", "a", 4, "canceled", 4, 6, "X"), T + 12 * MS)
    return o


def test_a_buy_above_its_arrival_price_costs_positive_slippage():
    q = quality(order(Side.BUY), ABC, "internal", arrival_ticks=10_000)

    # average (4 x 100.10 + 2 x 100.40) / 6 = 100.20; 20 bps above 100.00
    assert q.average_fill_price == Decimal("100.20")
    assert q.slippage_bps == Decimal("20.00")
    # shortfall: 0.20 x 6 = 1.20 of price, plus fees 0.04
    assert q.fees == Decimal("0.04")
    assert q.implementation_shortfall == Decimal("1.24")
    assert q.fill_rate == Decimal("0.6")
    assert (q.accept_ms, q.first_fill_ms, q.complete_ms) == (
        Decimal("2.000"),
        Decimal("6.000"),
        Decimal("12.000"),
    )
    assert q.order.event_seqs == [1, 2, 3, 4]


def test_a_sell_above_its_arrival_price_is_a_gain_and_unknown_arrival_is_null():
    gain = quality(order(Side.SELL), ABC, "paper", arrival_ticks=10_000)
    unknown = quality(order(Side.SELL), ABC, "paper")

    assert gain.slippage_bps == Decimal("-20.00")
    assert gain.implementation_shortfall == Decimal("-1.16")  # -1.20 + 0.04 of fees
    assert (unknown.arrival_price, unknown.slippage_bps, unknown.implementation_shortfall) == (
        None,
        None,
        None,
    )


def test_aggregates_weigh_fill_rate_by_quantity_and_take_nearest_rank_percentiles():
    rows = [
        quality(order(Side.BUY), ABC, "internal", 10_000),
        quality(order(Side.SELL), ABC, "paper", 10_000),
    ]
    (internal, paper) = aggregate(rows, ("venue",))
    (both,) = aggregate(rows, ("instrument",))

    assert (internal.key, paper.key, both.orders) == ({"venue": "internal"}, {"venue": "paper"}, 2)
    assert both.fill_rate == Decimal("0.6") and both.fees == Decimal("0.08")
    assert both.slippage_bps == {
        "p50": Decimal("-20.00"),
        "p95": Decimal("20.00"),
        "p99": Decimal("20.00"),
        "mean": Decimal("0.000"),
    }
    assert [percentile([Decimal(n) for n in range(1, 101)], q) for q in (50, 95, 99)] == [
        50,
        95,
        99,
    ]
