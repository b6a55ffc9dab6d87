"""The order model's wire contract: commands and events keep decoding across versions, and
the order aggregate follows a contingent leg from held to live and a trailing stop's moves."""

from __future__ import annotations

import pytest

from shared.domain.commands import (
    ConfigureInstrument,
    NewOrder,
    NewOrderGroup,
    ReplaceOrder,
    command_from_dict,
)
from shared.domain.enums import OrderClass, OrderStatus, OrderType, Side, TimeInForce
from shared.domain.events import (
    InstrumentConfigured,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderRestated,
    TrailingStopMoved,
    event_from_dict,
)
from shared.domain.order import InvalidTransition, Order
from shared.domain.order_rules import working_status


def _entry(
    order_id: str, leg: str = "", parent: str = "", order_class: str = "bracket"
) -> NewOrder:
    return NewOrder(
        f"g1.{order_id}",
        1,
        "AAPL",
        order_id,
        "acc",
        "buy",
        "limit",
        "gtc",
        100,
        19_000,
        order_class=order_class,
        leg=leg,
        parent_order_id=parent,
    )


def test_a_group_travels_whole_and_comes_back_equal() -> None:
    group = NewOrderGroup(
        "g1",
        1,
        "AAPL",
        "bracket",
        (_entry("e", "entry"), _entry("tp", "take_profit", "e"), _entry("sl", "stop_loss", "e")),
    )

    back = command_from_dict(group.to_dict())

    assert back == group
    assert isinstance(back, NewOrderGroup)
    assert [o.leg for o in back.orders] == ["entry", "take_profit", "stop_loss"]
    assert [o.parent_order_id for o in back.orders] == ["", "e", "e"]


def test_a_new_order_written_before_the_new_fields_decodes_as_a_simple_order() -> None:
    old = {
        "kind": "new_order",
        "command_id": "c1",
        "ts": 5,
        "symbol": "AAPL",
        "order_id": "o1",
        "account_id": "acc",
        "side": "sell",
        "order_type": "limit",
        "time_in_force": "day",
        "quantity": 3,
        "price": 19_000,
        "stop_price": 0,
        "expire_at": 0,
        "stp": "cancel_newest",
        "venue": "internal",
    }

    order = command_from_dict(old)

    assert isinstance(order, NewOrder)
    assert (order.order_class, order.leg, order.display_qty, order.reduce_only) == (
        "simple",
        "",
        0,
        False,
    )
    assert (order.trail_amount, order.trail_cbps, order.post_only) == (0, 0, False)


def test_a_body_missing_an_older_field_is_refused_not_misread() -> None:
    body = NewOrder("c1", 5, "AAPL", "o1", "acc", "buy", "limit", "gtc", 3, 10).to_dict()
    del body["quantity"]

    with pytest.raises(ValueError, match="quantity"):
        command_from_dict(body)


def test_an_old_accepted_event_decodes_with_everything_live() -> None:
    event = OrderAccepted("AAPL", 7, 5, "o1", "acc", 1, "new", "buy", "limit", 10, 19_000, 0)
    old = event.to_dict()
    del old["leaves_qty"], old["held_qty"]  # and what came after them:
    del old["bid_px"], old["ask_px"], old["last_trade_px"], old["ref_px"]

    back = event_from_dict(old)

    assert isinstance(back, OrderAccepted)
    assert (back.leaves_qty, back.held_qty) == (10, 0)


@pytest.mark.parametrize(
    "event",
    [
        OrderRestated("AAPL", 9, 5, "o1", "acc", 2, "new", 10, 4, 0, 6, 0, "LEG_RELEASED"),
        TrailingStopMoved("AAPL", 9, 5, "o1", "acc", 2, "new", 18_900, 19_100),
        InstrumentConfigured("AAPL", 9, 5, 10, 25),
    ],
)
def test_new_events_come_back_equal(event: object) -> None:
    assert event_from_dict(event.to_dict()) == event  # type: ignore[attr-defined]


def test_new_commands_come_back_equal() -> None:
    for command in (
        ConfigureInstrument("c9", 5, "AAPL", 10, 25),
        ReplaceOrder("c8", 5, "AAPL", "o1", "acc", trail_amount=50),
    ):
        assert command_from_dict(command.to_dict()) == command


def _leg() -> Order:
    return Order(
        order_id="tp",
        client_order_id="mine-tp",
        account_id="acc",
        symbol="AAPL",
        side=Side.SELL,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        quantity=100,
        limit_price=20_000,
        stop_price=None,
        created_at=1,
        order_class=OrderClass.BRACKET,
        leg="take_profit",
        parent_order_id="e",
    )


def _conserved(order: Order) -> bool:
    total = order.cum_qty + order.leaves_qty + order.canceled_qty + order.held_qty
    return total == order.quantity


def test_a_leg_is_held_then_goes_live_as_its_entry_fills_and_ends_when_the_entry_ends() -> None:
    leg = _leg()
    leg.apply(
        OrderAccepted("AAPL", 2, 1, "tp", "acc", 1, "held", "sell", "limit", 100, 20_000, 0, 0, 100)
    )
    assert (leg.status, leg.leaves_qty, leg.held_qty) == (OrderStatus.HELD, 0, 100)

    leg.apply(OrderRestated("AAPL", 5, 2, "tp", "acc", 2, "new", 100, 40, 0, 60, 0, "LEG_RELEASED"))
    assert (leg.status, leg.leaves_qty, leg.held_qty) == (OrderStatus.NEW, 40, 60)
    assert _conserved(leg)

    leg.apply(
        OrderFilled(
            "AAPL",
            8,
            3,
            "tp",
            "acc",
            3,
            "partially_filled",
            "sell",
            40,
            20_000,
            0,
            40,
            "maker",
            0,
            8,
        )
    )
    assert (leg.status, leg.cum_qty, leg.leaves_qty, leg.held_qty) == (
        OrderStatus.PARTIALLY_FILLED,
        40,
        0,
        60,
    )

    leg.apply(OrderCanceled("AAPL", 9, 4, "tp", "acc", 4, "canceled", 60, 40, "PARENT_CANCELED"))
    assert (leg.status, leg.held_qty, leg.canceled_qty) == (OrderStatus.CANCELED, 0, 60)
    assert _conserved(leg)


def test_an_oco_siblings_fill_can_take_a_legs_live_part_back_to_held() -> None:
    leg = _leg()
    leg.apply(
        OrderAccepted("AAPL", 2, 1, "tp", "acc", 1, "held", "sell", "limit", 100, 20_000, 0, 0, 100)
    )
    leg.apply(OrderRestated("AAPL", 5, 2, "tp", "acc", 2, "new", 100, 40, 0, 60, 0, "LEG_RELEASED"))

    leg.apply(
        OrderRestated("AAPL", 7, 3, "tp", "acc", 3, "held", 100, 0, 0, 60, 40, "OCO_SIBLING_FILLED")
    )

    assert (leg.status, leg.leaves_qty, leg.held_qty, leg.canceled_qty) == (
        OrderStatus.HELD,
        0,
        60,
        40,
    )
    assert _conserved(leg)


def test_a_filled_order_is_never_held_again() -> None:
    leg = _leg()
    leg.apply(OrderAccepted("AAPL", 2, 1, "tp", "acc", 1, "new", "sell", "limit", 100, 20_000, 0))
    leg.apply(
        OrderFilled(
            "AAPL", 8, 3, "tp", "acc", 2, "filled", "sell", 100, 20_000, 0, 100, "maker", 0, 8
        )
    )

    with pytest.raises(InvalidTransition):
        leg.apply(
            OrderRestated("AAPL", 9, 4, "tp", "acc", 3, "held", 100, 0, 100, 0, 0, "LEG_RELEASED")
        )


def test_a_trailing_stop_shows_its_current_stop_and_high_water_mark() -> None:
    order = Order(
        order_id="ts",
        client_order_id="mine-ts",
        account_id="acc",
        symbol="AAPL",
        side=Side.SELL,
        type=OrderType.TRAILING_STOP,
        time_in_force=TimeInForce.GTC,
        quantity=10,
        limit_price=None,
        stop_price=None,
        created_at=1,
        trail_amount=100,
    )
    order.apply(
        OrderAccepted("AAPL", 2, 1, "ts", "acc", 1, "new", "sell", "trailing_stop", 10, 0, 18_900)
    )
    assert order.stop_price == 18_900

    order.apply(TrailingStopMoved("AAPL", 4, 2, "ts", "acc", 2, "new", 19_050, 19_150))

    assert (order.stop_price, order.high_water_mark, order.status) == (
        19_050,
        19_150,
        OrderStatus.NEW,
    )


def test_working_status_names_a_leg_with_nothing_live_held() -> None:
    assert working_status(0, 0, 50) == "held"
    assert working_status(0, 10, 40) == "new"
    assert working_status(5, 0, 40) == "partially_filled"
