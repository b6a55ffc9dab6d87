"""Fills through alpaca-py, unchanged: a market order's `fill` on TradingStream with the fill's
price, quantity and the position after it; positions and the account after fills; closing a
position (part of it by qty or percentage, then all of it) and closing every position."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide, OrderStatus, PositionSide, TimeInForce
from alpaca.trading.models import Position, TradeAccount, TradeActivity
from alpaca.trading.requests import ClosePositionRequest, MarketOrderRequest

from tests.alpaca.conftest import AlpacaOms, Bot, StreamListener, call, eventually
from tests.alpaca.sdk import assert_whole


def market(symbol: str, qty: float, side: OrderSide) -> MarketOrderRequest:
    tif = TimeInForce.GTC if "/" in symbol else TimeInForce.DAY
    return MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force=tif)


async def filled(bot: Bot, order_id: object) -> object:
    async def done() -> object:
        order = await call(bot.client.get_order_by_id, order_id)
        return order if order.status is OrderStatus.FILLED else None

    return await eventually(done)


async def executions(oms: AlpacaOms, bot: Bot) -> list[dict[str, str]]:
    response = await oms.http.get("/api/executions", headers={"X-API-Key": bot.key})
    items: list[dict[str, str]] = response.json()["items"]
    return items


async def test_a_market_order_fill_reaches_tradingstream(
    oms: AlpacaOms, listeners: list[StreamListener]
):
    bot = await oms.bot("paper")
    listener = StreamListener(oms, bot)
    listeners.append(listener)
    await listener.start(oms, bot)

    first = await call(bot.client.submit_order, market("AAPL", 3, OrderSide.BUY))
    second = await call(bot.client.submit_order, market("BTC/USD", 0.25, OrderSide.BUY))

    await eventually(lambda: len([u for u in listener.updates if u.event == "fill"]) == 2)
    fills = {str(u.order.id): u for u in listener.updates if u.event == "fill"}
    ours = await executions(oms, bot)
    for order, qty in ((first, "3"), (second, "0.25")):
        update = fills[str(order.id)]
        execution = next(e for e in ours if e["order_id"] == order.id.hex)
        assert update.order.status is OrderStatus.FILLED and update.order.filled_qty == qty
        assert (update.qty, update.position_qty) == (float(qty), float(qty))
        assert update.price == float(execution["price"])
        assert update.execution_id is not None and update.timestamp is not None
    assert listener.events(first.id) == ["new", "fill"]
    assert fills[str(second.id)].order.symbol == "BTC/USD"


async def test_positions_and_the_account_after_fills(oms: AlpacaOms):
    bot = await oms.bot("paper")
    buy = await call(bot.client.submit_order, market("AAPL", 10, OrderSide.BUY))
    await filled(bot, buy.id)
    sell = await call(bot.client.submit_order, market("AAPL", 4, OrderSide.SELL))
    await filled(bot, sell.id)

    positions = await call(bot.client.get_all_positions)
    position = await call(bot.client.get_open_position, "AAPL")
    account = await call(bot.client.get_account)

    fills = await executions(oms, bot)
    bought = next(f for f in fills if f["side"] == "buy")
    assert [p.symbol for p in positions] == ["AAPL"]
    assert (position.qty, position.side) == ("6", PositionSide.LONG)
    assert Decimal(position.avg_entry_price) == Decimal(bought["price"])
    assert Decimal(position.cost_basis) == 6 * Decimal(bought["price"])
    admin = {"X-API-Key": oms.admin_key}
    native = (await oms.http.get(f"/api/admin/accounts/{bot.account_id}", headers=admin)).json()
    cash = Decimal(native["starting_cash"]) + sum(
        Decimal(f["quantity"]) * Decimal(f["price"]) * (1 if f["side"] == "sell" else -1)
        - Decimal(f["fee"])
        for f in fills
    )
    assert Decimal(native["starting_cash"]) > 0  # a paper account starts with cash
    assert Decimal(account.cash) == cash
    assert Decimal(account.equity) == cash + Decimal(account.long_market_value)
    assert Decimal(account.long_market_value) == Decimal(position.market_value)
    assert account.account_number == bot.account_id and account.status.value == "ACTIVE"
    raw_account = await oms.http.get("/v2/account", headers=bot.headers)
    raw_positions = await oms.http.get("/v2/positions", headers=bot.headers)
    assert_whole(raw_account.json(), TradeAccount)
    assert_whole(raw_positions.json()[0], Position)


async def test_closing_a_position_by_qty_by_percentage_then_all_of_it(oms: AlpacaOms):
    bot = await oms.bot("paper")
    await filled(bot, (await call(bot.client.submit_order, market("MSFT", 10, OrderSide.BUY))).id)

    by_qty = await call(bot.client.close_position, "MSFT", ClosePositionRequest(qty="3"))
    assert (by_qty.side, by_qty.qty, by_qty.type.value) == (OrderSide.SELL, "3", "market")
    await filled(bot, by_qty.id)
    by_percentage = await call(
        bot.client.close_position, "MSFT", ClosePositionRequest(percentage="50")
    )
    assert by_percentage.qty == "3"  # half of 7, rounded down to whole shares
    await filled(bot, by_percentage.id)
    with pytest.raises(APIError) as too_many:
        await call(bot.client.close_position, "MSFT", ClosePositionRequest(qty="5"))
    assert too_many.value.status_code == 403 and "insufficient qty" in too_many.value.message
    rest = await call(bot.client.close_position, "MSFT")
    assert rest.qty == "4"
    await filled(bot, rest.id)

    with pytest.raises(APIError) as gone:
        await call(bot.client.get_open_position, "MSFT")
    assert gone.value.status_code == 404 and gone.value.code == 40410000


async def test_closing_every_position_answers_207_per_symbol(oms: AlpacaOms):
    bot = await oms.bot("paper")
    await filled(bot, (await call(bot.client.submit_order, market("AAPL", 2, OrderSide.BUY))).id)
    short = await call(bot.client.submit_order, market("BTC/USD", 0.5, OrderSide.SELL))
    await filled(bot, short.id)
    crypto = await call(bot.client.get_open_position, "BTC/USD")
    assert (crypto.symbol, crypto.qty, crypto.side) == ("BTCUSD", "-0.5", PositionSide.SHORT)

    results = await call(bot.client.close_all_positions, True)

    assert sorted((r.symbol, r.status) for r in results) == [("AAPL", 200), ("BTCUSD", 200)]
    sides = {r.symbol: r.body.side for r in results}
    assert sides == {"AAPL": OrderSide.SELL, "BTCUSD": OrderSide.BUY}
    for result in results:
        await filled(bot, result.body.id)
    assert await call(bot.client.get_all_positions) == []


async def test_account_activities_list_the_fills_newest_first_paged_by_token(oms: AlpacaOms):
    bot = await oms.bot("paper")
    for qty in (1, 2, 3):
        order = await call(bot.client.submit_order, market("AAPL", qty, OrderSide.BUY))
        await filled(bot, order.id)

    everything = await oms.http.get("/v2/account/activities", headers=bot.headers)
    first = await oms.http.get(
        "/v2/account/activities/FILL", params={"page_size": "2"}, headers=bot.headers
    )
    token = first.json()[-1]["id"]
    rest = await oms.http.get(
        "/v2/account/activities/FILL",
        params={"page_size": "2", "page_token": token},
        headers=bot.headers,
    )
    oldest_first = await oms.http.get(
        "/v2/account/activities", params={"direction": "asc"}, headers=bot.headers
    )
    none = await oms.http.get(
        "/v2/account/activities", params={"activity_types": "DIV"}, headers=bot.headers
    )

    activities = [TradeActivity.model_validate(a) for a in everything.json()]
    for raw in everything.json():
        assert_whole(raw, TradeActivity)
    assert [a.qty for a in activities] == [3, 2, 1]
    assert {(a.type.value, a.order_status.value, a.leaves_qty) for a in activities} == {
        ("fill", "filled", 0)
    }
    assert [a["id"] for a in first.json() + rest.json()] == [a.id for a in activities]
    assert [a["qty"] for a in oldest_first.json()] == ["1", "2", "3"]
    assert none.json() == []
