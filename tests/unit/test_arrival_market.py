"""The market an order arrives at, as the matcher reports it on OrderAccepted and
OrderTriggered (best bid and ask and last trade before the order's own matching; the
simulator's reference price for paper orders), and the slippage computed from it, the same
after a replay of the journaled events."""

from __future__ import annotations

from decimal import Decimal

from matcher.engine.simulator import SimulatorConfig
from matcher.engine.venues import InstrumentVenues
from shared.domain.commands import Command, NewOrder
from shared.domain.enums import OrderType, Side, TimeInForce
from shared.domain.events import (
    Event,
    OrderAccepted,
    OrderEvent,
    OrderFilled,
    OrderTriggered,
    event_from_dict,
)
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.services.analytics import OrderQuality, quality

SIM = Instrument("SIM", Decimal("0.01"), Decimal("1"))
T = 1_700_000_000_000_000_000


def order(
    n: int, account: str, side: str, kind: str, qty: int, price: int = 0, stop: int = 0, **kw: str
) -> NewOrder:
    tif = "gtc" if kind in ("limit", "stop", "stop_limit") else "ioc"
    venue = kw.get("venue", "internal")
    return NewOrder(
        f"c{n}", T + n, "SIM", f"o{n}", account, side, kind, tif, qty, price, stop, 0,
        "cancel_newest", venue,
    )  # fmt: skip


def run(commands: list[Command], **sim: int) -> list[Event]:
    venues = InstrumentVenues("SIM", simulator=SimulatorConfig(start_price=10_000, **sim))  # type: ignore[arg-type]
    out: list[Event] = []
    venues.process(commands, out)
    return out


def market_of(events: list[Event], kind: type[Event], order_id: str) -> tuple[int, int, int, int]:
    (e,) = [e for e in events if isinstance(e, kind) and getattr(e, "order_id", "") == order_id]
    assert isinstance(e, (OrderAccepted, OrderTriggered))
    return (e.bid_px, e.ask_px, e.last_trade_px, e.ref_px)


def project(commands: list[Command], events: list[Event]) -> dict[str, OrderQuality]:
    """Every order's quality from the events, as the projector applies them."""
    orders: dict[str, Order] = {}
    for c in commands:
        if isinstance(c, NewOrder):
            orders[c.order_id] = Order(
                c.order_id, c.order_id, c.account_id, "SIM", Side(c.side), OrderType(c.order_type),
                TimeInForce(c.time_in_force), c.quantity, c.price or None, c.stop_price or None,
                c.ts,
            )  # fmt: skip
    for e in events:
        if isinstance(e, OrderEvent):
            orders[e.order_id].apply(e, e.ts)
    return {oid: quality(o, SIM, "x") for oid, o in orders.items()}


BOOK = [
    order(1, "maker", "buy", "limit", 5, 9_900),  # bid 99.00
    order(2, "maker", "sell", "limit", 3, 10_100),  # ask 101.00
    order(3, "maker", "sell", "limit", 3, 10_200),  # then 102.00
]


def test_an_order_arrives_at_the_book_before_its_own_matching() -> None:
    commands: list[Command] = [
        *BOOK,
        order(4, "taker", "buy", "market", 4),  # 3 at 101.00 and 1 at 102.00
        order(5, "taker", "buy", "stop", 1, 0, 10_200),  # last 102.00 reached: triggers at once
    ]
    events = run(commands)

    assert market_of(events, OrderAccepted, "o1") == (0, 0, 0, 0)  # an empty book
    assert market_of(events, OrderAccepted, "o4") == (9_900, 10_100, 0, 0)
    assert market_of(events, OrderAccepted, "o5") == (9_900, 10_200, 10_200, 0)
    assert market_of(events, OrderTriggered, "o5") == (9_900, 10_200, 10_200, 0)

    q = project(commands, events)
    # o4: arrival is the mid 100.00; average (3 x 101 + 102) / 4 = 101.25: 125 bps of cost,
    # shortfall 1.25 x 4 = 5.00 (no fees)
    assert q["o4"].arrival_price == Decimal("100.00")
    assert q["o4"].average_fill_price == Decimal("101.25")
    assert q["o4"].slippage_bps == Decimal("125.00")
    assert q["o4"].implementation_shortfall == Decimal("5.00")
    # o5 triggered against bid 99.00 / ask 102.00 (mid 100.50), bought at 102.00:
    # 1.50 / 100.50 = 149.2537 bps
    assert q["o5"].arrival_price == Decimal("100.50")
    assert q["o5"].slippage_bps == Decimal("149.25")
    # the resting maker sold above its arrival: an empty book has no arrival price
    assert q["o2"].arrival_price is None and q["o2"].slippage_bps is None


def test_a_paper_order_arrives_at_the_reference_price_and_slips_from_it() -> None:
    commands: list[Command] = [order(1, "p", "buy", "market", 2, venue="paper")]
    events = run(commands, slippage_cbps=2_000)  # 20 bps

    assert market_of(events, OrderAccepted, "o1") == (0, 0, 0, 10_000)
    fills = [(e.last_qty, e.last_px) for e in events if isinstance(e, OrderFilled)]
    assert fills == [(2, 10_020)]  # 100.00 + 20 bps = 100.20
    assert project(commands, events)["o1"].slippage_bps == Decimal("20.00")


def test_the_same_journal_gives_the_same_figures() -> None:
    commands: list[Command] = [
        *BOOK,
        order(4, "taker", "buy", "market", 4),
        order(5, "taker", "sell", "limit", 2, 9_800),
        order(6, "p", "sell", "market", 3, venue="paper"),
    ]
    events = run(commands, slippage_cbps=500, impact_cbps_per_lot=100)
    journaled = [event_from_dict(e.to_dict()) for e in events]

    assert run(commands, slippage_cbps=500, impact_cbps_per_lot=100) == events
    assert journaled == events
    assert project(commands, journaled) == project(commands, events)
    # the paper sale: 5 + 3 x 1 = 8 bps below 100.00, rounded against the seller: 99.92
    assert project(commands, journaled)["o6"].slippage_bps == Decimal("8.00")
