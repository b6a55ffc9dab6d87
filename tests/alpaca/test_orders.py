"""Orders through alpaca-py, unchanged: place, replace (Alpaca's contract: a new id that
replaces the old), cancel, cancel all, find by client order id, list with filters, and
refusals raised as the SDK's APIError with Alpaca's code and a message that says why."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
)

from tests.alpaca.conftest import AlpacaOms, StreamListener, call, eventually
from tests.alpaca.sdk import assert_whole


def bid(qty: float, price: float, client_order_id: str | None = None) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol="AAPL",
        qty=qty,
        side=OrderSide.BUY,
        limit_price=price,
        time_in_force=TimeInForce.GTC,
        client_order_id=client_order_id,
    )


async def test_a_resting_limit_order_is_replaced_by_a_new_id_then_canceled(
    oms: AlpacaOms, listeners: list[StreamListener]
):
    bot = await oms.bot("live")
    listener = StreamListener(oms, bot)
    listeners.append(listener)
    await listener.start(oms, bot)

    placed = await call(bot.client.submit_order, bid(5, 175.25, "rest-1"))
    assert (placed.qty, placed.limit_price, placed.client_order_id) == ("5", "175.25", "rest-1")
    assert placed.status in (OrderStatus.PENDING_NEW, OrderStatus.NEW)
    resting = await eventually(
        lambda: _status_is(bot.client, placed.id, OrderStatus.NEW), timeout=10
    )
    assert resting.filled_qty == "0" and resting.replaces is None

    replacing = await call(
        bot.client.replace_order_by_id, placed.id, ReplaceOrderRequest(qty=3, limit_price=175.5)
    )
    assert replacing.id != placed.id and replacing.replaces == placed.id
    assert replacing.client_order_id != "rest-1"  # Alpaca gives the new order a new one
    new = await eventually(lambda: _status_is(bot.client, replacing.id, OrderStatus.NEW))
    old = await call(bot.client.get_order_by_id, placed.id)
    assert (new.qty, new.limit_price, new.replaces) == ("3", "175.5", placed.id)
    assert old.status is OrderStatus.REPLACED and old.replaced_by == replacing.id
    by_old_client_id = await call(bot.client.get_order_by_client_id, "rest-1")
    assert by_old_client_id.id == placed.id and by_old_client_id.status is OrderStatus.REPLACED
    open_ids = [o.id for o in await call(bot.client.get_orders, GetOrdersRequest())]
    assert open_ids == [replacing.id]

    await call(bot.client.cancel_order_by_id, replacing.id)
    canceled = await eventually(lambda: _status_is(bot.client, replacing.id, OrderStatus.CANCELED))
    assert canceled.canceled_at is not None

    await eventually(lambda: len(listener.updates) >= 4)
    assert listener.events(placed.id) == ["new", "replaced"]
    assert listener.events(replacing.id) == ["new", "canceled"]
    replaced = next(u for u in listener.updates if u.event == "replaced")
    assert replaced.order.replaced_by == replacing.id and replaced.order.limit_price == "175.25"
    raw = await oms.http.get(f"/v2/orders/{replacing.id}", headers=bot.headers)
    assert_whole(raw.json(), Order)


async def _status_is(client, order_id: UUID, status: OrderStatus) -> Order | None:
    order = await call(client.get_order_by_id, order_id)
    return order if order.status is status else None


async def test_get_order_by_client_id_finds_the_order_and_unknown_ids_are_404(oms: AlpacaOms):
    bot = await oms.bot("live")
    placed = await call(bot.client.submit_order, bid(1, 176, "find-me"))

    found = await call(bot.client.get_order_by_client_id, "find-me")

    assert found.id == placed.id and found.client_order_id == "find-me"
    with pytest.raises(APIError) as missing:
        await call(bot.client.get_order_by_client_id, "nobody-has-this")
    assert missing.value.status_code == 404 and missing.value.code == 40410000
    await call(bot.client.cancel_orders)


@pytest.mark.parametrize(
    ("order", "status", "words"),
    [
        (bid(1.5, 175), 422, "qty"),  # off the lot grid
        (bid(1, 175.123), 422, "limit_price"),  # off the tick grid
        (bid(1, 100), 422, "outside"),  # outside the price collar
        (
            MarketOrderRequest(
                symbol="NOPE", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
            ),
            422,
            "NOPE",
        ),
        (
            MarketOrderRequest(
                symbol="AAPL", notional=100, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
            ),
            422,
            "notional",
        ),
    ],
)
async def test_a_refused_order_raises_apierror_saying_why(
    oms: AlpacaOms, order: object, status: int, words: str
):
    bot = await oms.bot("live")

    with pytest.raises(APIError) as refused:
        await call(bot.client.submit_order, order)

    assert refused.value.status_code == status
    assert refused.value.code == status * 100_000 + 10_000
    assert words in refused.value.message
    assert await call(bot.client.get_orders, GetOrdersRequest(status=QueryOrderStatus.ALL)) == []


async def test_an_order_beyond_the_buying_power_is_403(oms: AlpacaOms):
    bot = await oms.bot("live")
    response = await oms.http.patch(
        f"/api/admin/accounts/{bot.account_id}",
        json={"risk_limits": {"credit_limit": "1000"}},
        headers={"X-API-Key": oms.admin_key},
    )
    assert response.status_code == 200, response.text

    with pytest.raises(APIError) as refused:
        await call(bot.client.submit_order, bid(10, 176))

    assert refused.value.status_code == 403 and refused.value.code == 40310000
    assert refused.value.message.startswith("insufficient buying power")


async def test_a_client_order_id_is_unique_for_a_different_order(oms: AlpacaOms):
    bot = await oms.bot("live")
    await call(bot.client.submit_order, bid(1, 176, "only-once"))

    with pytest.raises(APIError) as taken:
        await call(bot.client.submit_order, bid(2, 176, "only-once"))

    assert taken.value.status_code == 422 and "unique" in taken.value.message
    await call(bot.client.cancel_orders)


async def test_cancel_all_answers_207_with_each_order(oms: AlpacaOms):
    bot = await oms.bot("live")
    placed = [await call(bot.client.submit_order, bid(1, 176 + n)) for n in range(3)]

    results = await call(bot.client.cancel_orders)

    assert sorted(str(r.id) for r in results) == sorted(str(o.id) for o in placed)
    assert {r.status for r in results} == {200}

    async def all_canceled() -> bool:
        orders = [await call(bot.client.get_order_by_id, o.id) for o in placed]
        return all(o.status is OrderStatus.CANCELED for o in orders)

    await eventually(all_canceled)
    raw = await oms.http.delete("/v2/orders", headers=bot.headers)
    assert raw.status_code == 207 and raw.json() == []


async def test_order_lists_filter_by_status_symbol_time_and_direction(oms: AlpacaOms):
    bot = await oms.bot("live")
    first = await call(bot.client.submit_order, bid(1, 176))
    second = await call(bot.client.submit_order, bid(1, 177))
    await eventually(lambda: _status_is(bot.client, second.id, OrderStatus.NEW))
    await call(bot.client.cancel_order_by_id, first.id)
    await eventually(lambda: _status_is(bot.client, first.id, OrderStatus.CANCELED))

    def ids(**filters: Any) -> Awaitable[Any]:
        return call(bot.client.get_orders, GetOrdersRequest(**filters))

    assert [o.id for o in await ids()] == [second.id]
    assert [o.id for o in await ids(status=QueryOrderStatus.CLOSED)] == [first.id]
    everything = await ids(status=QueryOrderStatus.ALL)
    assert [o.id for o in everything] == [second.id, first.id]
    oldest_first = await ids(status=QueryOrderStatus.ALL, direction="asc", limit=1)
    assert [o.id for o in oldest_first] == [first.id]
    assert await ids(status=QueryOrderStatus.ALL, symbols=["MSFT"]) == []
    later = datetime.now(UTC) + timedelta(hours=1)
    assert await ids(status=QueryOrderStatus.ALL, after=later) == []
    await call(bot.client.cancel_orders)
