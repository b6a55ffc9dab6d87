"""Answers the other tests do not read whole are whole for the SDK's own models: the clock,
the calendar, cancel-all's and close-all's per-order results, order lists, and the orders
inside trade updates (every field the model has, every enum value one it knows)."""

from __future__ import annotations

from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.models import Calendar, Clock, ClosePositionResponse, Order, TradeUpdate
from alpaca.trading.requests import CancelOrderResponse, LimitOrderRequest, MarketOrderRequest

from tests.alpaca.conftest import AlpacaOms, StreamListener, call, eventually
from tests.alpaca.sdk import assert_whole


async def test_clock_and_calendar_are_whole(oms: AlpacaOms):
    bot = await oms.bot()

    clock = (await oms.http.get("/v2/clock", headers=bot.headers)).json()
    days = (
        await oms.http.get(
            "/v2/calendar", params={"start": "2026-03-02", "end": "2026-03-08"}, headers=bot.headers
        )
    ).json()

    assert_whole(clock, Clock)
    Clock.model_validate(clock)
    assert days
    for day in days:
        assert_whole(day, Calendar)
        Calendar(**day)


async def test_per_order_results_and_order_lists_are_whole(
    oms: AlpacaOms, listeners: list[StreamListener]
):
    bot = await oms.bot("paper")
    listener = StreamListener(oms, bot)
    listeners.append(listener)
    await listener.start(oms, bot)
    bought = await call(
        bot.client.submit_order,
        MarketOrderRequest(symbol="MSFT", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.DAY),
    )
    resting = await call(
        bot.client.submit_order,
        LimitOrderRequest(
            symbol="MSFT",
            qty=1,
            side=OrderSide.BUY,
            limit_price=390,
            time_in_force=TimeInForce.GTC,
        ),
    )

    async def held() -> bool:
        order = await call(bot.client.get_order_by_id, bought.id)
        return bool(order.status is OrderStatus.FILLED)

    await eventually(held)
    listed = (
        await oms.http.get("/v2/orders", params={"status": "all"}, headers=bot.headers)
    ).json()
    canceled = await oms.http.delete("/v2/orders", headers=bot.headers)
    closed = await oms.http.delete("/v2/positions", headers=bot.headers)
    await eventually(lambda: any(u.event == "canceled" for u in listener.updates))

    assert {o["id"] for o in listed} == {str(bought.id), str(resting.id)}
    for raw in listed:
        assert_whole(raw, Order)
    assert canceled.status_code == 207 and [r["id"] for r in canceled.json()] == [str(resting.id)]
    for raw in canceled.json():
        assert_whole(raw, CancelOrderResponse)
        CancelOrderResponse.model_validate(raw)
    assert closed.status_code == 207 and [r["symbol"] for r in closed.json()] == ["MSFT"]
    for raw in closed.json():
        assert_whole(raw, ClosePositionResponse)
        assert_whole(raw["body"], Order)
        ClosePositionResponse.model_validate(raw)
    for update in listener.updates:
        assert isinstance(update, TradeUpdate)
        assert_whole(update.order.model_dump(), Order)
