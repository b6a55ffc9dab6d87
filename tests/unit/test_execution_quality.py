"""Execution quality of one order, worked by hand: fill price, fees, fill rate, latencies
from the matcher's processing times, and slippage and implementation shortfall against an
arrival price (signed so that positive is a cost)."""

from __future__ import annotations

from decimal import Decimal

from shared.domain.enums import OrderType, Side, TimeInForce
from shared.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderTriggered,
    event_from_dict,
)
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.services.analytics import aggregate, percentile, quality

ABC = Instrument("ABC", Decimal("0.01"), Decimal("1"))
MS = 1_000_000
T = 1_700_000_000_000_000_000


BOOK = (9_995, 10_005, 0, 0)  # bid 99.95, ask 100.05: mid 100.00
PAPER = (0, 0, 0, 10_000)  # the simulator's reference price 100.00


def order(side: Side, market: tuple[int, int, int, int] = BOOK) -> Order:
    """10 ordered at T; accepted 2 ms later meeting `market` (bid, ask, last trade, reference
    price); filled 4 at 100.10 (6 ms) and 2 at 100.40 (9 ms), fees 0.02 each; the rest
    canceled 12 ms after receipt."""
    o = Order("o1", "c1", "a", "ABC", side, OrderType.LIMIT, TimeInForce.GTC, 10, 10_100, None, T)
    s = side.value
    accepted = OrderAccepted(
        "ABC", 1, T, "o1", "a", 1, "new", s, "limit", 10, 10_100, 0, -1, 0, *market
    )
    o.apply(accepted, T + 2 * MS)
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
    q = quality(order(Side.BUY), ABC, "internal")

    # arrival: the mid of 99.95 / 100.05 = 100.00;
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
    gain = quality(order(Side.SELL, PAPER), ABC, "paper")
    unknown = quality(order(Side.SELL, (0, 0, 0, 0)), ABC, "paper")

    assert gain.slippage_bps == Decimal("-20.00")
    assert gain.implementation_shortfall == Decimal("-1.16")  # -1.20 + 0.04 of fees
    assert (unknown.arrival_price, unknown.slippage_bps, unknown.implementation_shortfall) == (
        None,
        None,
        None,
    )


def test_aggregates_weigh_fill_rate_by_quantity_and_take_nearest_rank_percentiles():
    rows = [
        quality(order(Side.BUY), ABC, "internal"),
        quality(order(Side.SELL, PAPER), ABC, "paper"),
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


def test_the_arrival_price_is_the_reference_then_the_mid_then_the_last_trade():
    # Paper: the reference price wins over any book figure.
    paper = quality(order(Side.BUY, (9_000, 9_100, 9_050, 10_000)), ABC, "paper")
    # A one-sided book (bid only) with a last trade at 100.10: the last trade.
    one_sided = quality(order(Side.BUY, (9_995, 0, 10_010, 0)), ABC, "internal")
    # An odd spread: bid 99.99, ask 100.00, mid 99.995 (half a tick).
    odd = quality(order(Side.BUY, (9_999, 10_000, 10_010, 0)), ABC, "internal")
    # A one-sided book and no trade yet: not known.
    unknown = quality(order(Side.BUY, (9_995, 0, 0, 0)), ABC, "internal")

    assert (paper.arrival_price, paper.slippage_bps) == (Decimal("100.00"), Decimal("20.00"))
    # (100.20 - 100.10) / 100.10 = 9.99000999 bps; shortfall 0.10 x 6 + 0.04
    assert one_sided.arrival_price == Decimal("100.10")
    assert one_sided.slippage_bps == Decimal("9.99")
    assert one_sided.implementation_shortfall == Decimal("0.64")
    # (100.20 - 99.995) / 99.995 = 20.501025 bps; shortfall 0.205 x 6 + 0.04 = 1.27
    assert odd.arrival_price == Decimal("99.995")
    assert odd.slippage_bps == Decimal("20.50")
    assert odd.implementation_shortfall == Decimal("1.270")
    assert (unknown.arrival_price, unknown.slippage_bps) == (None, None)


def test_a_stop_arrives_when_it_is_triggered_and_old_entries_decode_without_a_market():
    o = Order("s1", "c1", "a", "ABC", Side.SELL, OrderType.STOP, TimeInForce.GTC, 5, None, 9_900, T)
    o.apply(
        OrderAccepted("ABC", 1, T, "s1", "a", 1, "new", "sell", "stop", 5, 0, 9_900, -1, 0, *BOOK),
        T + MS,
    )
    assert o.arrival_half_ticks == 20_000  # 100.00 at acceptance
    # The last trade fell to 99.00; the book then: bid 98.90, ask 99.10 (mid 99.00).
    o.apply(
        OrderTriggered("ABC", 2, T, "s1", "a", 2, "new", "market", 9_900, 9_890, 9_910, 9_900, 0)
    )
    o.apply(OrderFilled("ABC", 3, T, "s1", "a", 3, "filled", "sell", 5, 9_880, 0, 5, "taker", 0, 3))
    q = quality(o, ABC, "internal")
    # a sale at 98.80 against 99.00: (99.00 - 98.80) / 99.00 = 20.2020 bps; 0.20 x 5
    assert (q.arrival_price, q.slippage_bps) == (Decimal("99.00"), Decimal("20.20"))
    assert q.implementation_shortfall == Decimal("1.00")

    old = OrderAccepted("ABC", 1, T, "o9", "a", 1, "new", "buy", "limit", 1, 10_000, 0)
    body = old.to_dict()
    for name in ("bid_px", "ask_px", "last_trade_px", "ref_px"):
        del body[name]  # an entry journaled before the matcher reported the market
    assert event_from_dict(body) == old
