"""The market an order arrives at, for the orders the engine accepts or triggers outside
`new_order`'s simple path: a contingent group's legs, a trailing stop, a paper bracket, and
a shadow copy of a trailing stop (shadow mode)."""

from __future__ import annotations

from typing import Any

from matcher.engine.simulator import SimulatorConfig
from shared.domain.events import OrderAccepted, OrderTriggered, ShadowFilled
from tests.support.desk import Desk


def market(
    events: list[Any], kind: type[OrderAccepted | OrderTriggered], order_id: str
) -> tuple[int, int, int, int]:
    (e,) = [e for e in events if isinstance(e, kind) and e.order_id == order_id]
    return (e.bid_px, e.ask_px, e.last_trade_px, e.ref_px)


def test_a_brackets_orders_and_a_trailing_stop_report_the_book_they_arrive_at() -> None:
    d = Desk()
    d.trade(100)  # last trade 100
    d.order("bid", "buy", 5, price=98, account="mm")
    d.order("ask", "sell", 5, price=103, account="mm")
    out = d.bracket("e", "buy", 2, take_profit=110, stop_loss=95, price=99)
    # every order of the group met bid 98 / ask 103 / last 100 (the held exits too)
    for order_id in ("e", "e-tp", "e-sl"):
        assert market(out, OrderAccepted, order_id) == (98, 103, 100, 0)


def test_a_trailing_stop_reports_the_book_it_arrives_at_and_when_it_triggers() -> None:
    d = Desk()
    d.trade(100)  # last trade 100
    d.order("bid", "buy", 5, price=90, account="mm")
    d.order("ask", "sell", 5, price=105, account="mm")
    trail = d.order("t", "sell", 1, kind="trailing_stop", trail_amount=2, account="tr")
    assert market(trail, OrderAccepted, "t") == (90, 105, 100, 0)  # its stop: 98
    out = d.trade(97)  # the last trade falls to 97: the stop triggers
    assert market(out, OrderTriggered, "t") == (90, 105, 97, 0)


def test_a_paper_bracket_arrives_at_the_reference_price() -> None:
    d = Desk(simulator=SimulatorConfig(start_price=10_000, prices=[(0, 10_000)]))
    out = d.bracket("p", "buy", 2, take_profit=10_500, stop_loss=9_500, price=0, kind="market",
                    tif="day", venue="paper")  # fmt: skip
    for order_id in ("p", "p-tp", "p-sl"):
        assert market(out, OrderAccepted, order_id) == (0, 0, 0, 10_000)


def test_a_shadow_copy_of_a_trailing_stop_fills_on_the_simulator() -> None:
    d = Desk(simulator=SimulatorConfig(start_price=10_000, prices=[(0, 10_000), (5_000, 9_000)]))
    d.order("t", "sell", 1, kind="trailing_stop", trail_amount=100, account="s", shadow=True)
    out = d.expire(ts=6_000)  # the reference falls to 90.00: the copy's stop (99.00) triggers
    assert [(e.order_id, e.last_px) for e in out if isinstance(e, ShadowFilled)] == [("t", 9_000)]


def test_a_shadow_copy_of_a_bracket_runs_its_legs_on_the_simulator() -> None:
    d = Desk(simulator=SimulatorConfig(start_price=10_000, prices=[(0, 10_000), (5_000, 10_600)]))
    d.bracket("b", "buy", 2, take_profit=10_500, stop_loss=9_500, price=10_100, shadow=True)
    out = d.expire(ts=6_000)  # the reference rises to 106.00: the copy's take-profit fills
    # the entry copy bought 2 at once (at 100.00: the reference is within its limit), its
    # take-profit copy sells them at 106.00 when the reference gets there
    assert [(e.order_id, e.last_px) for e in d.log if isinstance(e, ShadowFilled)] == [
        ("b", 10_000),
        ("b-tp", 10_600),
    ]
    assert d.venues.depth(5) == ([(10_100, 2, 1)], [])  # the real entry still rests alone
    assert out
