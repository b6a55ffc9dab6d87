"""The order rules the venues and the intake share for the order model of issue 14: new
types and instructions, contingent groups, reduce-only, replaces of legs and trails."""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain.commands import NewOrder, NewOrderGroup
from shared.domain.order_rules import (
    group_problem,
    new_order_problem,
    reduce_only_problem,
    replace_problem,
    trailing_stop_price,
)


def order(**kw: Any) -> NewOrder:
    base: dict[str, Any] = {
        "command_id": "c",
        "ts": 10,
        "symbol": "XYZ",
        "order_id": "o",
        "account_id": "acc",
        "side": "buy",
        "order_type": "limit",
        "time_in_force": "gtc",
        "quantity": 10,
        "price": 100,
    }
    base.update(kw)
    return NewOrder(**base)


def problem(**kw: Any) -> str:
    return new_order_problem(order(**kw), False, False)


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"order_type": "trailing_stop", "price": 0, "trail_amount": 5}, ""),
        ({"order_type": "trailing_stop", "price": 0, "trail_cbps": 10_000}, ""),
        ({"order_type": "trailing_stop", "price": 0}, "INVALID_TRAIL"),
        (
            {"order_type": "trailing_stop", "price": 0, "trail_amount": 5, "trail_cbps": 5},
            "INVALID_TRAIL",
        ),
        ({"order_type": "trailing_stop", "price": 0, "trail_cbps": 1_000_000}, "INVALID_TRAIL"),
        (
            {"order_type": "trailing_stop", "price": 0, "trail_amount": 5, "stop_price": 90},
            "UNEXPECTED_PRICE",
        ),
        ({"trail_amount": 5}, "INVALID_TRAIL"),
        ({"display_qty": 3}, ""),
        ({"display_qty": 11}, "INVALID_DISPLAY_QUANTITY"),
        ({"display_qty": -1}, "INVALID_DISPLAY_QUANTITY"),
        ({"display_qty": 3, "time_in_force": "ioc"}, "INVALID_DISPLAY_QUANTITY"),
        ({"display_qty": 3, "order_type": "market", "price": 0}, "INVALID_DISPLAY_QUANTITY"),
        ({"post_only": True}, ""),
        ({"post_only": True, "order_type": "market", "price": 0}, "POST_ONLY_NOT_LIMIT"),
        ({"post_only": True, "time_in_force": "fok"}, "INVALID_TIME_IN_FORCE"),
        ({"time_in_force": "opg"}, "TIME_IN_FORCE_NOT_SUPPORTED"),
        ({"time_in_force": "cls"}, "TIME_IN_FORCE_NOT_SUPPORTED"),
        ({"stp": "decrement"}, ""),
        ({"order_class": "bracket", "leg": "entry"}, "INVALID_ORDER_CLASS"),
        ({"order_class": "triangle"}, "INVALID_ORDER_CLASS"),
        ({"leg": "take_profit"}, "INVALID_LEG"),
        ({"reduce_only": True}, ""),
    ],
)
def test_a_new_order_is_checked_field_by_field(kw: dict[str, Any], reason: str) -> None:
    assert problem(**kw) == reason


def bracket(**changes: dict[str, Any]) -> NewOrderGroup:
    """A buy entry at 100 with a take-profit at 110 and a stop-loss at 95."""
    entry: dict[str, Any] = {"order_id": "e", "leg": "entry", "order_class": "bracket"}
    tp: dict[str, Any] = {
        "order_id": "tp",
        "leg": "take_profit",
        "order_class": "bracket",
        "side": "sell",
    }
    tp.update({"price": 110, "parent_order_id": "e"})
    sl: dict[str, Any] = {
        "order_id": "sl",
        "leg": "stop_loss",
        "order_class": "bracket",
        "side": "sell",
    }
    sl.update({"order_type": "stop", "price": 0, "stop_price": 95, "parent_order_id": "e"})
    parts = [entry, tp, sl]
    for i, name in enumerate(("entry", "tp", "sl")):
        parts[i].update(changes.get(name, {}))
    return NewOrderGroup("g", 10, "XYZ", "bracket", tuple(order(**p) for p in parts))


def test_a_well_formed_bracket_passes_and_each_order_passes_alone_in_its_group() -> None:
    g = bracket()
    assert group_problem(g) == (-1, "")
    assert [new_order_problem(o, False, False, in_group=True) for o in g.orders] == [""] * 3


@pytest.mark.parametrize(
    ("changes", "at", "reason"),
    [
        ({"tp": {"price": 96}}, 1, "INVALID_BRACKET_PRICES"),  # below the entry's limit
        ({"tp": {"price": 94}}, 1, "INVALID_BRACKET_PRICES"),  # below the stop-loss
        ({"sl": {"stop_price": 101}}, 2, "INVALID_BRACKET_PRICES"),  # above the entry
        ({"tp": {"side": "buy"}}, 1, "INVALID_LEG"),
        ({"sl": {"quantity": 9}}, 2, "INVALID_LEG"),
        ({"sl": {"order_type": "limit", "price": 90, "stop_price": 0}}, 2, "INVALID_LEG"),
        ({"sl": {"account_id": "other"}}, 2, "INVALID_LEG"),
        ({"sl": {"parent_order_id": "x"}}, 2, "INVALID_LEG"),
        ({"tp": {"reduce_only": True}}, 1, "INVALID_LEG"),
        ({"tp": {"post_only": True}}, 1, "INVALID_LEG"),
        ({"tp": {"time_in_force": "day"}}, 2, "INVALID_LEG"),  # exits end together
        ({"tp": {"order_id": "e"}}, 1, "DUPLICATE_ORDER_ID"),
        (
            {
                "entry": {
                    "order_type": "stop",
                    "price": 0,
                    "stop_price": 101,
                    "time_in_force": "ioc",
                }
            },
            0,
            "INVALID_TIME_IN_FORCE",
        ),
        ({"sl": {"leg": "take_profit"}}, 2, "INVALID_LEG"),
    ],
)
def test_a_bracket_that_does_not_fit_names_the_order_at_fault(
    changes: dict[str, dict[str, Any]], at: int, reason: str
) -> None:
    assert group_problem(bracket(**changes)) == (at, reason)


def test_a_trailing_stop_loss_has_no_fixed_stop_to_compare() -> None:
    g = bracket(sl={"order_type": "trailing_stop", "stop_price": 0, "trail_amount": 3})
    assert group_problem(g) == (-1, "")


def test_oco_and_oto_shapes() -> None:
    tp = order(order_id="tp", leg="take_profit", order_class="oco", side="sell", price=110)
    sl = order(
        order_id="sl",
        leg="stop_loss",
        order_class="oco",
        side="sell",
        order_type="stop",
        price=0,
        stop_price=95,
        parent_order_id="tp",
    )
    assert group_problem(NewOrderGroup("g", 10, "XYZ", "oco", (tp, sl))) == (-1, "")
    assert group_problem(NewOrderGroup("g", 10, "XYZ", "oco", (sl, tp)))[1] == "INVALID_LEG"
    entry = order(order_id="e", leg="entry", order_class="oto")
    exit_ = order(
        order_id="x",
        leg="take_profit",
        order_class="oto",
        side="sell",
        price=90,
        parent_order_id="e",
    )
    assert group_problem(NewOrderGroup("g", 10, "XYZ", "oto", (entry, exit_))) == (
        1,
        "INVALID_BRACKET_PRICES",
    )
    assert group_problem(NewOrderGroup("g", 10, "XYZ", "fancy", (entry, exit_))) == (
        0,
        "INVALID_ORDER_CLASS",
    )


def test_reduce_only_may_only_close_what_the_account_holds() -> None:
    assert reduce_only_problem("sell", 4, 10, 6) == ""
    assert reduce_only_problem("sell", 5, 10, 6) == "REDUCE_ONLY_WOULD_INCREASE"
    assert reduce_only_problem("buy", 1, 10, 0) == "REDUCE_ONLY_WOULD_INCREASE"
    assert reduce_only_problem("buy", 3, -3, 0) == ""
    assert reduce_only_problem("sell", 1, 0, 0) == "REDUCE_ONLY_WOULD_INCREASE"


def test_a_legs_own_quantity_follows_its_entry_and_a_trail_is_for_trailing_stops() -> None:
    leg_qty = replace_problem("limit", 0, 8, False, False, False, "take_profit", True)
    assert leg_qty == "LEG_QUANTITY_FOLLOWS_ENTRY"
    assert replace_problem("limit", 0, 10, True, False, False, "take_profit", False) == ""
    assert replace_problem("stop", 0, 10, False, False, True, "", False, 5) == "REPLACE_INVALID"
    trailing = replace_problem("trailing_stop", 0, 10, False, False, True, "", False, 0, 500)
    assert trailing == ""
    assert replace_problem("trailing_stop", 0, 10, False, True, True) == "REPLACE_INVALID"


def test_trailing_stop_price_rounds_against_the_trader_by_the_tick() -> None:
    assert trailing_stop_price(False, 1_000, 25, 0) == 975
    assert trailing_stop_price(True, 1_000, 25, 0) == 1_025
    assert trailing_stop_price(False, 1_001, 0, 10_000) == 990  # 990.99 down
    assert trailing_stop_price(True, 1_001, 0, 10_000) == 1_012  # 1011.01 up
    assert trailing_stop_price(False, 0, 25, 0) == 0  # no trade yet: no stop
    assert trailing_stop_price(False, 10, 25, 0) == 1
