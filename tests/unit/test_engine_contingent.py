"""Brackets, OTO and OCO on the internal venue, as a trader would see them."""

from __future__ import annotations

from shared.domain.commands import NewOrderGroup
from shared.domain.events import OrderReplaced, OrderTriggered, ReplaceRejected
from tests.support.desk import Desk, accepted, ended, fills, kinds, rejected, replaced, restated


def test_a_bracket_whose_entry_fills_in_two_parts_releases_its_exits_in_two_parts() -> None:
    d = Desk()
    out = d.bracket("e", "buy", 10, take_profit=110, stop_loss=95, price=100)
    assert accepted(out) == [("e", "new", 10, 0), ("e-tp", "held", 0, 10), ("e-sl", "held", 0, 10)]
    assert d.venues.depth(5) == ([(100, 10, 1)], [])  # held exits are not in the book

    out = d.order("s1", "sell", 4, price=100)
    assert fills(out) == [("e", 4, 100), ("s1", 4, 100)]
    assert restated(out) == [("e-tp", "LEG_RELEASED", 4, 6, 0), ("e-sl", "LEG_RELEASED", 4, 6, 0)]
    assert kinds(out)[-2:] == [("order_restated", "e-tp"), ("order_restated", "e-sl")]
    assert d.venues.depth(5)[1] == [(110, 4, 1)]  # the live take-profit never exceeds the fill

    out = d.order("s2", "sell", 6, price=100)
    assert restated(out) == [("e-tp", "LEG_RELEASED", 10, 0, 0), ("e-sl", "LEG_RELEASED", 10, 0, 0)]
    assert d.venues.depth(5) == ([], [(110, 10, 1)])

    out = d.order("b", "buy", 10, price=110)
    assert fills(out) == [("e-tp", 10, 110), ("b", 10, 110)]
    assert ended(out) == [("e-sl", "OCO_SIBLING_FILLED", 10)]
    assert out[-1].status == "canceled"


def test_canceling_a_partly_filled_entry_cancels_only_what_its_exits_still_hold() -> None:
    d = Desk()
    d.bracket("e", "buy", 10, take_profit=110, stop_loss=95, price=100)
    d.order("s", "sell", 4, price=100)
    out = d.cancel("e", "trader")
    assert ended(out) == [("e", "CANCELED_BY_CLIENT", 6)]
    assert restated(out) == [
        ("e-tp", "PARENT_CANCELED", 4, 0, 6),
        ("e-sl", "PARENT_CANCELED", 4, 0, 6),
    ]
    assert d.venues.depth(5)[1] == [(110, 4, 1)]  # the bought 4 stay protected


def test_canceling_an_entry_that_never_filled_ends_its_exits() -> None:
    d = Desk()
    d.bracket("e", "buy", 10, take_profit=110, stop_loss=95, price=100)
    out = d.cancel("e", "trader")
    assert ended(out) == [
        ("e", "CANCELED_BY_CLIENT", 10),
        ("e-tp", "PARENT_CANCELED", 10),
        ("e-sl", "PARENT_CANCELED", 10),
    ]
    assert d.cancel("e-tp", "trader")[0].reason == "UNKNOWN_ORDER"


def test_canceling_an_exit_cancels_the_other_exit_and_the_working_entry() -> None:
    d = Desk()
    d.bracket("e", "buy", 10, take_profit=110, stop_loss=95, price=100)
    d.order("s", "sell", 3, price=100)
    out = d.cancel("e-sl", "trader")
    assert ended(out) == [
        ("e-sl", "CANCELED_BY_CLIENT", 10),
        ("e-tp", "GROUP_CANCELED", 10),
        ("e", "GROUP_CANCELED", 7),
    ]
    assert d.venues.depth(5) == ([], [])


def test_a_group_that_does_not_fit_is_rejected_whole() -> None:
    d = Desk()
    out = d.bracket("e", "buy", 10, take_profit=99, stop_loss=95, price=100)
    assert rejected(out) == [
        ("e", "GROUP_REJECTED"),
        ("e-tp", "INVALID_BRACKET_PRICES"),
        ("e-sl", "GROUP_REJECTED"),
    ]
    assert d.venues.depth(5) == ([], [])
    out = d.bracket("p", "buy", 10, take_profit=110, stop_loss=95, price=100, post_only=True)
    assert [o for o, *_ in accepted(out)] == ["p", "p-tp", "p-sl"]  # nothing to take: it rests
    d.cancel("p", "trader")
    d.order("ask", "sell", 1, price=100, account="other")
    out = d.bracket("q", "buy", 10, take_profit=110, stop_loss=95, price=100, post_only=True)
    assert rejected(out)[0] == ("q", "POST_ONLY_WOULD_TAKE")


def test_an_oco_fill_reduces_its_sibling_and_the_pair_never_fills_more_than_its_quantity() -> None:
    d = Desk()
    d.trade(100)
    d.oco("x", "sell", 10, take_profit=110, stop_loss=95)
    out = d.order("b", "buy", 4, price=110)
    assert fills(out) == [("x-tp", 4, 110), ("b", 4, 110)]
    assert restated(out) == [("x-sl", "OCO_SIBLING_FILLED", 6, 0, 4)]
    d.order("bid", "buy", 20, price=94, account="deep")
    out = d.trade(95)  # the stop-loss triggers and sells what is left of the pair
    assert [e.order_id for e in out if isinstance(e, OrderTriggered)] == ["x-sl"]
    assert fills(out)[-2:] == [("bid", 6, 94), ("x-sl", 6, 94)]
    assert ended(out) == [("x-tp", "OCO_SIBLING_FILLED", 6)]
    assert sum(q for o, q, _ in fills(d.log) if o.startswith("x-")) == 10
    assert d.venues.depth(5)[1] == []


def test_canceling_one_leg_of_an_oco_cancels_the_pair() -> None:
    d = Desk()
    d.oco("x", "sell", 10, take_profit=110, stop_loss=95)
    out = d.cancel("x-tp", "trader")
    assert ended(out) == [("x-tp", "CANCELED_BY_CLIENT", 10), ("x-sl", "GROUP_CANCELED", 10)]


def test_oto_releases_its_one_exit_and_canceling_it_cancels_the_working_entry() -> None:
    d = Desk()
    out = d.bracket("e", "sell", 5, take_profit=90, stop_loss=0, price=100, order_class="oto")
    assert accepted(out) == [("e", "new", 5, 0), ("e-tp", "held", 0, 5)]
    d.order("b", "buy", 2, price=100)
    assert d.venues.depth(5)[0] == [(90, 2, 1)]
    out = d.cancel("e-tp", "trader")
    assert ended(out) == [("e-tp", "CANCELED_BY_CLIENT", 5), ("e", "GROUP_CANCELED", 3)]


def test_replacing_the_entrys_quantity_restates_the_exits_and_a_legs_own_quantity_is_refused() -> (
    None
):
    d = Desk()
    d.bracket("e", "buy", 10, take_profit=110, stop_loss=95, price=100)
    d.order("s", "sell", 4, price=100)
    out = d.replace("e", "trader", quantity=7)
    assert isinstance(out[0], OrderReplaced) and (out[0].quantity, out[0].leaves_qty) == (7, 3)
    assert restated(out) == [
        ("e-tp", "PARENT_REPLACED", 4, 3, 0),
        ("e-sl", "PARENT_REPLACED", 4, 3, 0),
    ]
    assert [(e.order_id, e.quantity) for e in out[1:]] == [("e-tp", 7), ("e-sl", 7)]
    out = d.replace("e-tp", "trader", quantity=5)
    assert isinstance(out[0], ReplaceRejected) and out[0].reason == "LEG_QUANTITY_FOLLOWS_ENTRY"
    out = d.replace("e-tp", "trader", price=112)
    assert replaced(out)[0].price == 112
    assert d.venues.depth(5)[1] == [(112, 4, 1)]
    out = d.replace("e-sl", "trader", stop_price=96)  # a stop of a held part may move too
    assert replaced(out)[0].stop_price == 96


def test_a_market_entry_that_finds_nothing_ends_its_exits() -> None:
    d = Desk()
    out = d.bracket("e", "buy", 5, take_profit=110, stop_loss=95, kind="market")
    assert ended(out) == [
        ("e", "MARKET_NO_LIQUIDITY", 5),
        ("e-tp", "PARENT_CANCELED", 5),
        ("e-sl", "PARENT_CANCELED", 5),
    ]


def test_a_released_stop_loss_the_market_already_went_through_triggers_at_once() -> None:
    d = Desk()
    d.order("ask", "sell", 3, price=98, account="seller")
    d.order("bid", "buy", 10, price=90, account="buyer")
    out = d.bracket("e", "buy", 3, take_profit=110, stop_loss=99, kind="market")
    assert fills(out)[:2] == [("ask", 3, 98), ("e", 3, 98)]
    assert [e.order_id for e in out if isinstance(e, OrderTriggered)] == ["e-sl"]
    assert ("e-sl", 3, 90) in fills(out)  # sold at once to the best bid
    assert ended(out)[-1] == ("e-tp", "OCO_SIBLING_FILLED", 3)


def test_a_trailing_stop_loss_starts_trailing_when_its_entry_fills() -> None:
    d = Desk()
    d.trade(80)
    out = d.bracket(
        "e", "buy", 2, take_profit=150, stop_loss=5, price=100, stop_kind="trailing_stop"
    )
    assert [(e.order_id, e.stop_price) for e in out if e.KIND == "order_accepted"][-1] == (
        "e-sl",
        0,
    )
    out = d.order("s", "sell", 2, price=100)
    moves = [
        (e.order_id, e.stop_price, e.high_water_mark)
        for e in out
        if e.KIND == "trailing_stop_moved"
    ]
    assert moves == [("e-sl", 95, 100)]
    out = d.trade(104)
    assert [(e.stop_price, e.high_water_mark) for e in out if e.KIND == "trailing_stop_moved"] == [
        (99, 104)
    ]
    d.order("bid", "buy", 5, price=98, account="deep")
    out = d.trade(99)
    assert [e.order_id for e in out if isinstance(e, OrderTriggered)] == ["e-sl"]


def test_a_day_entry_expires_at_the_close_and_a_halt_cancels_every_part_of_a_group() -> None:
    d = Desk()
    d.bracket("e", "buy", 10, take_profit=110, stop_loss=95, price=100, tif="day")
    d.order("s", "sell", 4, price=100)
    out = d.expire(end_of_day=True)
    assert ended(out) == [("e", "EXPIRED_DAY", 6)]
    assert restated(out) == [
        ("e-tp", "PARENT_CANCELED", 4, 0, 6),
        ("e-sl", "PARENT_CANCELED", 4, 0, 6),
    ]

    g = Desk()
    g.bracket("f", "buy", 10, take_profit=110, stop_loss=95, price=100)
    g.halt("halted")
    assert {(o, r) for o, r, _ in ended(g.log)} == {
        ("f", "CANCELED_BY_HALT"),
        ("f-tp", "CANCELED_BY_HALT"),
        ("f-sl", "CANCELED_BY_HALT"),
    }


def test_exits_that_expire_take_their_still_working_entry_with_them() -> None:
    d = Desk()
    d.tick()
    entry = d.new("e", "buy", 10, price=100, account="t", order_class="bracket", leg="entry")
    common = {"account": "t", "order_class": "bracket", "parent_order_id": "e", "tif": "day"}
    tp = d.new("e-tp", "sell", 10, price=110, leg="take_profit", **common)
    sl = d.new("e-sl", "sell", 10, kind="stop", stop=95, leg="stop_loss", **common)
    d.run(NewOrderGroup("g", d.ts, "XYZ", "bracket", (entry, tp, sl)))
    out = d.expire(end_of_day=True)
    assert ended(out) == [
        ("e-tp", "EXPIRED_DAY", 10),
        ("e-sl", "EXPIRED_DAY", 10),
        ("e", "GROUP_CANCELED", 10),
    ]
