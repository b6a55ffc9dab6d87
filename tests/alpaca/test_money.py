"""The money alpaca-py sees is the money model's: `/v2/account` and `/v2/positions` carry the
figures of `/api/account` and `/api/positions` (cash with deposits, equity, buying power,
market value, P&L at the mark, P&L today), and assets are named and classed from each
instrument's asset class. Two live accounts trade on an instrument of their own, so the mark
(its last trade) is set by the test alone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from alpaca.trading.enums import AssetClass, OrderSide, OrderStatus, PositionSide, TimeInForce
from alpaca.trading.models import Asset, Order, Position, TradeAccount
from alpaca.trading.requests import GetAssetsRequest, LimitOrderRequest

from tests.alpaca.conftest import AlpacaOms, Bot, call, eventually
from tests.alpaca.sdk import assert_whole


async def instrument(oms: AlpacaOms, symbol: str, **spec: object) -> None:
    body: dict[str, object] = {"symbol": symbol, "tick_size": "0.01", "lot_size": "1", **spec}
    response = await oms.http.post("/api/admin/instruments", json=body, headers=oms.admin)
    assert response.status_code == 201, response.text


def limit(symbol: str, side: OrderSide, qty: float, price: float) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol=symbol, qty=qty, side=side, limit_price=price, time_in_force=TimeInForce.GTC
    )


async def trade(seller: Bot, buyer: Bot, symbol: str, qty: float, price: float) -> None:
    """The seller rests an offer, the buyer takes all of it."""
    offer = await call(seller.client.submit_order, limit(symbol, OrderSide.SELL, qty, price))
    await eventually(lambda: _status(seller, offer.id, OrderStatus.NEW))
    bid = await call(buyer.client.submit_order, limit(symbol, OrderSide.BUY, qty, price))
    await eventually(lambda: _status(buyer, bid.id, OrderStatus.FILLED))
    await eventually(lambda: _status(seller, offer.id, OrderStatus.FILLED))


async def _status(bot: Bot, order_id: object, status: OrderStatus) -> bool:
    order = await call(bot.client.get_order_by_id, order_id)
    return bool(order.status is status)


async def native(oms: AlpacaOms, bot: Bot, path: str) -> Any:
    response = await oms.http.get(path, headers={"X-API-Key": bot.key})
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_account_and_positions_carry_the_money_models_figures(oms: AlpacaOms):
    await instrument(oms, "MONEY1", reference_price="50")
    seller = await oms.bot("live", starting_cash="10000")
    buyer = await oms.bot("live", starting_cash="10000")
    await trade(seller, buyer, "MONEY1", 10, 50)
    deposit = {"kind": "deposit", "amount": "250", "entry_id": "dep-1"}
    moved = await oms.http.post(
        f"/api/admin/accounts/{buyer.account_id}/cash", json=deposit, headers=oms.admin
    )
    assert moved.status_code == 201, moved.text
    await trade(seller, buyer, "MONEY1", 1, 52)  # the mark is now 52

    async def marked() -> bool:
        return bool((await native(oms, buyer, "/api/account"))["long_market_value"] == "572")

    await eventually(marked)
    account = await call(buyer.client.get_account)
    long = await call(buyer.client.get_open_position, "MONEY1")
    short = await call(seller.client.get_open_position, "MONEY1")
    seller_account = await call(seller.client.get_account)

    money = await native(oms, buyer, "/api/account")
    (held,) = (await native(oms, buyer, "/api/positions"))["items"]
    # cash: 10000 + 250 deposited - 500 - 52 paid; equity adds 11 x 52 at the mark
    assert (account.cash, account.equity, account.portfolio_value) == ("9698", "10270", "10270")
    assert account.buying_power == money["buying_power"]
    assert (account.long_market_value, account.short_market_value) == ("572", "0")
    assert account.last_equity == "10000"  # less today's P&L (20) and today's deposit
    assert (long.qty, long.side, long.current_price) == ("11", PositionSide.LONG, "52")
    assert (long.cost_basis, long.market_value, long.unrealized_pl) == ("552", "572", "20")
    assert long.unrealized_pl == held["unrealized_pnl"]
    assert Decimal(long.unrealized_plpc) == (Decimal(20) / 552).quantize(Decimal("1e-10"))
    assert long.unrealized_intraday_pl == held["pnl_today"] == "20"
    assert Decimal(long.unrealized_intraday_plpc) == (Decimal(20) / 552).quantize(Decimal("1e-10"))
    assert (short.qty, short.side, short.market_value) == ("-11", PositionSide.SHORT, "-572")
    assert (short.unrealized_pl, seller_account.short_market_value) == ("-20", "-572")
    assert seller_account.equity == "9980" and seller_account.last_equity == "10000"
    for bot in (buyer, seller):
        assert_whole((await oms.http.get("/v2/account", headers=bot.headers)).json(), TradeAccount)
        for raw in (await oms.http.get("/v2/positions", headers=bot.headers)).json():
            assert_whole(raw, Position)


async def test_assets_are_named_and_classed_by_the_instruments_asset_class(oms: AlpacaOms):
    await instrument(
        oms,
        "ETHUSD",
        asset_class="crypto",
        lot_size="0.0001",
        min_quantity="0.001",
        reference_price="3000",
    )
    await instrument(oms, "ZZ-USD", reference_price="20")  # an equity, whatever it looks like
    bot = await oms.bot("live", starting_cash="100000")

    by_pair = await call(bot.client.get_asset, "ETH/USD")
    by_position_symbol = await call(bot.client.get_asset, "ETHUSD")
    equity = await call(bot.client.get_asset, "ZZ-USD")
    crypto = await call(bot.client.get_all_assets, GetAssetsRequest(asset_class=AssetClass.CRYPTO))
    order = await call(bot.client.submit_order, limit("ETH/USD", OrderSide.BUY, 0.5, 2990))

    assert (by_pair.symbol, by_pair.asset_class, by_pair.exchange.value) == (
        "ETH/USD",
        AssetClass.CRYPTO,
        "CRYPTO",
    )
    assert by_position_symbol.id == by_pair.id
    assert (by_pair.min_order_size, by_pair.min_trade_increment, by_pair.price_increment) == (
        0.001,
        0.0001,
        0.01,
    )
    assert by_pair.fractionable and not equity.fractionable
    assert (equity.symbol, equity.asset_class) == ("ZZ-USD", AssetClass.US_EQUITY)
    assert {"ETH/USD", "BTC/USD"} <= {a.symbol for a in crypto}
    assert "ZZ-USD" not in {a.symbol for a in crypto}
    assert (order.symbol, order.asset_class, order.qty) == ("ETH/USD", AssetClass.CRYPTO, "0.5")
    raw_assets = (await oms.http.get("/v2/assets", headers=bot.headers)).json()
    for raw in raw_assets:
        assert_whole(raw, Asset)
    raw_order = (await oms.http.get(f"/v2/orders/{order.id}", headers=bot.headers)).json()
    assert_whole(raw_order, Order)
    await call(bot.client.cancel_orders)
