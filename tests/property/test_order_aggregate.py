"""The venues' events, applied to order aggregates as the projector does, never break the
strict transition table, keep filled + leaves + held + canceled == quantity (contingent legs,
trailing stops, icebergs, reduce-only and decremented orders too), and a repeated or early
event is refused without changing the order."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.engine.venues import InstrumentVenues
from shared.domain.commands import CancelOrder, NewOrder, NewOrderGroup, ReplaceOrder
from shared.domain.enums import OrderClass, OrderStatus, OrderType, Side, TimeInForce
from shared.domain.events import Event, OrderEvent, OrderFilled
from shared.domain.order import (
    CancelRequested,
    DuplicateEvent,
    EventOutOfOrder,
    InvalidTransition,
    Order,
    ReplaceRequested,
)
from tests.property.streams import random_commands


def order_from(c: NewOrder) -> Order:
    return Order(
        order_id=c.order_id,
        client_order_id=f"cl-{c.order_id}",
        account_id=c.account_id,
        symbol=c.symbol,
        side=Side(c.side),
        type=OrderType(c.order_type),
        time_in_force=TimeInForce(c.time_in_force),
        quantity=c.quantity,
        limit_price=c.price or None,
        stop_price=c.stop_price or None,
        created_at=c.ts,
        expire_at=c.expire_at or None,
        display_qty=c.display_qty,
        post_only=c.post_only,
        reduce_only=c.reduce_only,
        trail_amount=c.trail_amount,
        trail_cbps=c.trail_cbps,
        order_class=OrderClass(c.order_class),
        leg=c.leg,
        parent_order_id=c.parent_order_id,
    )


def assert_conserved(o: Order) -> None:
    assert o.cum_qty + o.leaves_qty + o.held_qty + o.canceled_qty == o.quantity, o


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(min_value=0, max_value=100_000))
def test_projecting_engine_events_follows_the_transition_table(seed: int) -> None:
    venues = InstrumentVenues("TEST", 5, 20, reference_price=100)
    orders: dict[str, Order] = {}
    for command in random_commands(seed, 300):
        news = command.orders if isinstance(command, NewOrderGroup) else (command,)
        for new in news:
            if isinstance(new, NewOrder) and new.order_id not in orders:
                orders[new.order_id] = order_from(new)
        target = orders.get(getattr(command, "order_id", ""))
        if target is not None and not target.is_terminal:
            if isinstance(command, CancelOrder) and target.status != OrderStatus.PENDING_NEW:
                target.apply(CancelRequested(command.ts))
            elif isinstance(command, ReplaceOrder) and target.status in (
                OrderStatus.HELD,
                OrderStatus.NEW,
                OrderStatus.PARTIALLY_FILLED,
            ):
                target.apply(ReplaceRequested(command.ts))
        out: list[Event] = []
        venues.handle(command, out)
        for e in out:
            if not isinstance(e, OrderEvent) or e.order_seq == 0:
                continue
            o = orders[e.order_id]
            o.apply(e)
            assert_conserved(o)
            assert o.seq == e.order_seq
            if isinstance(e, OrderFilled):
                before = copy.deepcopy(o)
                with pytest.raises(DuplicateEvent):
                    o.apply(e)
                assert o == before
    for o in orders.values():
        assert_conserved(o)
        if o.is_terminal:
            assert o.leaves_qty == 0 and o.held_qty == 0
        assert o.status not in (OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE) or (
            not o.is_terminal
        )


def test_an_event_ahead_of_its_predecessor_is_refused_and_changes_nothing() -> None:
    venues = InstrumentVenues("TEST")
    out: list[Event] = []
    buy = NewOrder("1", 1, "TEST", "b", "x", "buy", "limit", "gtc", 10, 100)
    venues.handle(buy, out)
    venues.handle(NewOrder("2", 2, "TEST", "s", "y", "sell", "limit", "gtc", 4, 100), out)
    order = order_from(buy)
    fill = next(e for e in out if isinstance(e, OrderFilled) and e.order_id == "b")
    with pytest.raises(EventOutOfOrder):
        order.apply(fill)
    assert order.status == OrderStatus.PENDING_NEW and order.cum_qty == 0
    for e in out:
        if isinstance(e, OrderEvent) and e.order_id == "b":
            order.apply(e)
    assert (order.status, order.cum_qty, order.leaves_qty) == (
        OrderStatus.PARTIALLY_FILLED,
        4,
        6,
    )


def test_terminal_orders_accept_no_further_transition() -> None:
    order = order_from(NewOrder("1", 1, "TEST", "b", "x", "buy", "limit", "gtc", 10, 100))
    order.status = OrderStatus.FILLED
    with pytest.raises(InvalidTransition):
        order.apply(CancelRequested(5))
    assert order.status == OrderStatus.FILLED
