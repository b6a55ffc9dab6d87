"""alpaca-py retries `POST /v2/orders` when it gets 429 or 504: a retried submit with the
same client_order_id never places a second order. A proxy between the SDK and the OMS (real
HTTP on both sides) answers the first submit itself: 429 before the OMS sees it, or 504 after
the OMS placed the order (the answer lost on the way back)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderClass, OrderSide, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    StopLossRequest,
    TakeProfitRequest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from shared.signalr_hub.serve import serving
from tests.alpaca.conftest import AlpacaOms, call


class FlakyProxy:
    """Forwards everything to the OMS, except that the first submit gets `fault`."""

    def __init__(self, target: str, fault: int) -> None:
        self.target = target
        self.fault = fault
        self.submits = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k != "host"}
        submit = request.method == "POST" and request.url.path == "/v2/orders"
        self.submits += submit
        first = submit and self.submits == 1
        if first and self.fault == 429:  # refused before the OMS sees it
            answer = Response(b'{"code":42910000,"message":"rate limit exceeded"}', 429)
            await answer(scope, receive, send)
            return
        async with httpx.AsyncClient(base_url=self.target, timeout=10) as http:
            forwarded = await http.request(
                request.method,
                request.url.path,
                params=request.query_params,
                content=body,
                headers=headers,
            )
        if first and self.fault == 504:  # the OMS placed it; the answer is lost
            forwarded = httpx.Response(504, content=b"gateway timeout")
        await Response(forwarded.content, forwarded.status_code)(scope, receive, send)


@asynccontextmanager
async def proxy(oms: AlpacaOms, fault: int) -> AsyncIterator[tuple[FlakyProxy, str]]:
    flaky = FlakyProxy(oms.url, fault)
    async with serving(flaky) as url:
        yield flaky, url


@pytest.mark.parametrize("fault", [429, 504])
async def test_a_retried_submit_places_one_order(oms: AlpacaOms, fault: int):
    bot = await oms.bot("live")
    async with proxy(oms, fault) as (flaky, url):
        client = TradingClient(bot.account_id, bot.key, paper=True, url_override=url)
        order = LimitOrderRequest(
            symbol="AAPL",
            qty=2,
            side=OrderSide.BUY,
            limit_price=176.5,
            time_in_force=TimeInForce.GTC,
            client_order_id=f"retried-{fault}",
        )

        placed = await call(client.submit_order, order)

    orders = await call(bot.client.get_orders, GetOrdersRequest(status=QueryOrderStatus.ALL))
    assert flaky.submits == 2  # the SDK retried once
    assert [o.id for o in orders] == [placed.id]
    assert placed.client_order_id == f"retried-{fault}"
    await call(bot.client.cancel_orders)


async def test_a_retried_bracket_places_one_group(oms: AlpacaOms):
    bot = await oms.bot("live")
    async with proxy(oms, 504) as (flaky, url):
        client = TradingClient(bot.account_id, bot.key, paper=True, url_override=url)
        bracket = LimitOrderRequest(
            symbol="AAPL",
            qty=2,
            side=OrderSide.BUY,
            limit_price=176.5,
            time_in_force=TimeInForce.GTC,
            client_order_id="retried-bracket",
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfitRequest(limit_price=180),
            stop_loss=StopLossRequest(stop_price=170),
        )

        placed = await call(client.submit_order, bracket)

    everything = await call(bot.client.get_orders, GetOrdersRequest(status=QueryOrderStatus.ALL))
    assert flaky.submits == 2
    assert placed.legs is not None and len(placed.legs) == 2
    assert sorted(str(o.id) for o in everything) == sorted(
        str(o.id) for o in (placed, *placed.legs)
    )
    await call(bot.client.cancel_orders)
