"""Brackets, OCOs and trailing stops through alpaca-py, unchanged: a bracket whose take-profit
fills and whose stop-loss is canceled with it, seen in `get_orders(nested=True)` and on
TradingStream; an OCO's shape; a trailing stop that follows the market and takes a new
trail. Live accounts trade on instruments of their own, so every trade is the test's."""

from __future__ import annotations

from typing import Any

from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    ReplaceOrderRequest,
    StopLossRequest,
    TakeProfitRequest,
    TrailingStopOrderRequest,
)

from tests.alpaca.conftest import AlpacaOms, Bot, StreamListener, call, eventually
from tests.alpaca.sdk import assert_whole
from tests.alpaca.test_money import instrument, limit, trade


async def status_is(bot: Bot, order_id: object, status: OrderStatus) -> Any:
    order = await call(bot.client.get_order_by_id, order_id)
    return order if order.status is status else None


async def test_a_brackets_take_profit_fills_and_its_stop_loss_is_canceled(
    oms: AlpacaOms, listeners: list[StreamListener]
):
    await instrument(oms, "BRKT1", reference_price="100")
    maker = await oms.bot("live", starting_cash="100000")
    trader = await oms.bot("live", starting_cash="100000")
    listener = StreamListener(oms, trader)
    listeners.append(listener)
    await listener.start(oms, trader)
    offer = await call(maker.client.submit_order, limit("BRKT1", OrderSide.SELL, 5, 100))
    await eventually(lambda: status_is(maker, offer.id, OrderStatus.NEW))

    bracket = LimitOrderRequest(
        symbol="BRKT1",
        qty=5,
        side=OrderSide.BUY,
        limit_price=100,
        time_in_force=TimeInForce.GTC,
        order_class=OrderClass.BRACKET,
        take_profit=TakeProfitRequest(limit_price=105),
        stop_loss=StopLossRequest(stop_price=95),
    )
    entry = await call(trader.client.submit_order, bracket)
    assert entry.order_class is OrderClass.BRACKET and entry.legs is not None
    take_profit, stop_loss = entry.legs
    assert (take_profit.side, take_profit.limit_price, take_profit.qty) == (
        OrderSide.SELL,
        "105",
        "5",
    )
    assert (stop_loss.side, stop_loss.type.value, stop_loss.stop_price) == (
        OrderSide.SELL,
        "stop",
        "95",
    )
    await eventually(lambda: status_is(trader, entry.id, OrderStatus.FILLED))
    await eventually(lambda: status_is(trader, take_profit.id, OrderStatus.NEW))
    await eventually(lambda: status_is(trader, stop_loss.id, OrderStatus.NEW))
    bid = await call(maker.client.submit_order, limit("BRKT1", OrderSide.BUY, 5, 105))
    await eventually(lambda: status_is(maker, bid.id, OrderStatus.FILLED))
    await eventually(lambda: status_is(trader, stop_loss.id, OrderStatus.CANCELED))

    nested = await call(
        trader.client.get_orders, GetOrdersRequest(status=QueryOrderStatus.ALL, nested=True)
    )
    flat = await call(trader.client.get_orders, GetOrdersRequest(status=QueryOrderStatus.ALL))

    (head,) = nested
    assert head.id == entry.id and head.status is OrderStatus.FILLED
    assert [(leg.id, leg.status) for leg in head.legs] == [
        (take_profit.id, OrderStatus.FILLED),
        (stop_loss.id, OrderStatus.CANCELED),
    ]
    assert head.legs[0].filled_avg_price == "105"
    assert sorted(str(o.id) for o in flat) == sorted(
        str(i) for i in (entry.id, take_profit.id, stop_loss.id)
    )
    assert all(o.legs is None for o in flat)
    assert await call(trader.client.get_all_positions) == []
    await eventually(lambda: "canceled" in listener.events(stop_loss.id))
    await eventually(lambda: "fill" in listener.events(take_profit.id))
    assert listener.events(entry.id) == ["new", "fill"]
    assert listener.events(take_profit.id) == ["new", "fill"]
    assert listener.events(stop_loss.id) == ["new", "canceled"]
    tp_fill = next(
        u for u in listener.updates if u.event == "fill" and u.order.id == take_profit.id
    )
    assert (tp_fill.price, tp_fill.qty, tp_fill.position_qty) == (105, 5, 0)
    raw = await oms.http.get(
        "/v2/orders", params={"status": "all", "nested": "true"}, headers=trader.headers
    )
    assert_whole(raw.json()[0], Order)
    for leg in raw.json()[0]["legs"]:
        assert_whole(leg, Order)


async def test_an_oco_is_its_take_profit_with_the_stop_loss_as_its_leg(oms: AlpacaOms):
    await instrument(oms, "OCO1", reference_price="100")
    maker = await oms.bot("live", starting_cash="100000")
    trader = await oms.bot("live", starting_cash="100000")
    await trade(maker, trader, "OCO1", 10, 100)

    oco = LimitOrderRequest(
        symbol="OCO1",
        qty=10,
        side=OrderSide.SELL,
        time_in_force=TimeInForce.GTC,
        order_class=OrderClass.OCO,
        take_profit=TakeProfitRequest(limit_price=110),
        stop_loss=StopLossRequest(stop_price=90, limit_price=89),
    )
    before = await call(trader.client.get_open_position, "OCO1")
    head = await call(trader.client.submit_order, oco)
    after = await call(trader.client.get_open_position, "OCO1")

    assert (head.order_class, head.type.value, head.limit_price) == (OrderClass.OCO, "limit", "110")
    (stop,) = head.legs
    assert (stop.type.value, stop.stop_price, stop.limit_price) == ("stop_limit", "90", "89")
    live = await eventually(lambda: status_is(trader, stop.id, OrderStatus.NEW))
    assert live.order_class is OrderClass.OCO
    # The exits hold the whole position: none of it is available to other orders.
    assert (before.qty_available, after.qty, after.qty_available) == ("10", "10", "0")
    await call(trader.client.cancel_orders)
    await eventually(lambda: status_is(trader, stop.id, OrderStatus.CANCELED))


async def test_a_trailing_stop_follows_the_market_and_takes_a_new_trail(oms: AlpacaOms):
    await instrument(oms, "TRAIL1", reference_price="100")
    maker = await oms.bot("live", starting_cash="100000")
    other = await oms.bot("live", starting_cash="100000")
    trader = await oms.bot("live", starting_cash="100000")
    await trade(maker, trader, "TRAIL1", 10, 100)

    by_price = await call(
        trader.client.submit_order,
        TrailingStopOrderRequest(
            symbol="TRAIL1",
            qty=5,
            side=OrderSide.SELL,
            time_in_force=TimeInForce.GTC,
            trail_price=2,
        ),
    )
    by_percent = await call(
        trader.client.submit_order,
        TrailingStopOrderRequest(
            symbol="TRAIL1",
            qty=5,
            side=OrderSide.SELL,
            time_in_force=TimeInForce.GTC,
            trail_percent=5,
        ),
    )
    assert (by_price.type.value, by_price.trail_price, by_price.trail_percent) == (
        "trailing_stop",
        "2",
        None,
    )
    assert (by_percent.trail_price, by_percent.trail_percent) == (None, "5")
    await eventually(lambda: status_is(trader, by_price.id, OrderStatus.NEW))
    await trade(maker, other, "TRAIL1", 1, 104)  # the market rises: the stops follow

    async def moved() -> Any:
        order = await call(trader.client.get_order_by_id, by_price.id)
        return order if order.hwm == "104" else None

    followed = await eventually(moved)
    assert followed.stop_price == "102"
    percent = await call(trader.client.get_order_by_id, by_percent.id)
    assert (percent.hwm, percent.stop_price) == ("104", "98.8")
    replacing = await call(
        trader.client.replace_order_by_id, by_price.id, ReplaceOrderRequest(trail=3)
    )
    assert replacing.replaces == by_price.id

    async def retrailed() -> Any:
        order = await call(trader.client.get_order_by_id, replacing.id)
        return order if order.stop_price == "101" else None  # 3 below the high-water mark

    new = await eventually(retrailed)
    assert (new.status, new.hwm) == (OrderStatus.NEW, "104")
    raw = await oms.http.get(f"/v2/orders/{new.id}", headers=trader.headers)
    assert_whole(raw.json(), Order)
    await call(trader.client.cancel_orders)
