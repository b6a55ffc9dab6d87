"""The projector on a contingent group's and a trailing stop's events: a leg held, released
as its entry fills, a trailing stop's moves; each applied to the stored order and pushed on
the owner's feed (orderUpdated) with the event, its reason and the order's view."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.domain.enums import OrderClass, OrderType, Side, TimeInForce
from shared.domain.events import (
    OrderAccepted,
    OrderFilled,
    OrderRestated,
    TrailingStopMoved,
)
from shared.messages import EventBatch
from shared.services import projector
from shared.services.placing import place_order
from shared.services.tickets import OrderRequest, StopLossRequest, TakeProfitRequest
from tests.support.oms import Oms, make_oms


@pytest.fixture
async def oms() -> AsyncIterator[Oms]:
    system = await make_oms()
    await system.add_instrument("ABC", "0.01", "1", reference_price="100")
    yield system
    await system.container.store.close()


async def test_a_legs_release_and_its_trailing_stops_moves_reach_the_order_and_the_feed(
    oms: Oms,
) -> None:
    account_id, _ = await oms.add_account("alice")
    account = await oms.container.store.accounts.get(account_id)
    assert account is not None
    request = OrderRequest(
        "ABC",
        Side.BUY,
        OrderType.LIMIT,
        "10",
        TimeInForce.GTC,
        "100",
        order_class=OrderClass.BRACKET,
        take_profit=TakeProfitRequest("105"),
        stop_loss=StopLossRequest(trail_amount="2"),
    )
    placed = await place_order(oms.container, account, request)
    entry, (take_profit, stop) = placed.order.order_id, [o.order_id for o in placed.legs or ()]
    a = account_id
    events = (
        OrderAccepted("ABC", 1, 1, entry, a, 1, "new", "buy", "limit", 10, 10_000, 0),
        OrderAccepted(
            "ABC", 2, 1, take_profit, a, 1, "held", "sell", "limit", 10, 10_500, 0, 0, 10
        ),
        OrderAccepted("ABC", 3, 1, stop, a, 1, "held", "sell", "trailing_stop", 10, 0, 0, 0, 10),
        OrderFilled(
            "ABC", 4, 2, entry, a, 2, "partially_filled", "buy", 4, 10_000, 0, 4, "taker", 0, 4
        ),
        OrderRestated("ABC", 5, 2, stop, a, 2, "new", 10, 4, 0, 6, 0, "LEG_RELEASED"),
        TrailingStopMoved("ABC", 6, 2, stop, a, 3, "new", 9_800, 10_000),
    )

    await projector.project_batch(oms.container, EventBatch("ABC", "c1", 1, 6, events))

    stored = await oms.container.store.orders.get(account_id, stop)
    assert stored is not None
    assert (stored.status, stored.leaves_qty, stored.held_qty) == ("new", 4, 6)
    assert (stored.stop_price, stored.high_water_mark) == (9_800, 10_000)
    pushed = [e["data"] for e in oms.notifier.envelopes(account_id, "orderUpdated")]
    about_stop = [
        (d["event"], d.get("event_reason"), d["status"]) for d in pushed if d["order_id"] == stop
    ]
    assert about_stop == [
        ("order_accepted", None, "held"),
        ("order_restated", "LEG_RELEASED", "new"),
        ("trailing_stop_moved", None, "new"),
    ]
    moved = pushed[-1]
    assert (moved["stop_price"], moved["high_water_mark"], moved["trail_amount"]) == (
        "98",
        "100",
        "2",
    )
    assert (moved["leaves_quantity"], moved["held_quantity"], moved["parent_order_id"]) == (
        "4",
        "6",
        entry,
    )
