"""Market data through alpaca-py's historical clients, unchanged, pointed at the OMS: the
latest quote is the top of the internal book, the latest trade and the bars come from the
trades two accounts make on the internal venue (bars: OHLCV, oldest first, paged)."""

from __future__ import annotations

from decimal import Decimal

from alpaca.data.historical.crypto import CryptoHistoricalDataClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import (
    CryptoBarsRequest,
    CryptoLatestQuoteRequest,
    CryptoLatestTradeRequest,
    StockBarsRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
)
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest

from tests.alpaca.conftest import AlpacaOms, Bot, call, eventually


def limit(symbol: str, side: OrderSide, qty: float, price: float) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol=symbol, qty=qty, side=side, limit_price=price, time_in_force=TimeInForce.GTC
    )


async def trades_on(oms: AlpacaOms, symbol: str, fills: list[tuple[float, float]]) -> Bot:
    """A maker rests each (qty, price) as a sell and a taker buys it; returns the taker."""
    maker, taker = await oms.bot("live"), await oms.bot("live")
    for qty, price in fills:
        await call(maker.client.submit_order, limit(symbol, OrderSide.SELL, qty, price))
        await call(taker.client.submit_order, limit(symbol, OrderSide.BUY, qty, price))

    async def all_traded() -> bool:
        response = await oms.http.get("/api/executions", headers={"X-API-Key": taker.key})
        return len(response.json()["items"]) == len(fills)

    await eventually(all_traded)
    return taker


async def test_stock_quote_trade_and_bars_come_from_the_internal_venue(oms: AlpacaOms):
    await trades_on(oms, "AAPL", [(2, 181.5), (3, 182.25)])
    quoting = await oms.bot("live")
    await call(quoting.client.submit_order, limit("AAPL", OrderSide.BUY, 7, 179.5))
    await call(quoting.client.submit_order, limit("AAPL", OrderSide.SELL, 4, 186))
    data = StockHistoricalDataClient(quoting.account_id, quoting.key, url_override=oms.url)

    async def quoted() -> object:
        quotes = await call(
            data.get_stock_latest_quote, StockLatestQuoteRequest(symbol_or_symbols="AAPL")
        )
        quote = quotes.get("AAPL")
        return quote if quote is not None and quote.ask_price == 186 else None

    quote = await eventually(quoted)
    trade = (
        await call(data.get_stock_latest_trade, StockLatestTradeRequest(symbol_or_symbols="AAPL"))
    )["AAPL"]
    bars = await call(
        data.get_stock_bars,
        StockBarsRequest(symbol_or_symbols=["AAPL", "MSFT"], timeframe=TimeFrame.Minute),
    )
    await call(quoting.client.cancel_orders)

    assert (quote.bid_price, quote.bid_size, quote.ask_size) == (179.5, 7, 4)
    assert (trade.price, trade.size) == (182.25, 3)
    minute = bars["AAPL"][-1]
    assert (minute.open, minute.high, minute.low, minute.close) == (181.5, 182.25, 181.5, 182.25)
    assert (minute.volume, minute.trade_count) == (5, 2)
    assert Decimal(str(minute.vwap)) == (2 * Decimal("181.5") + 3 * Decimal("182.25")) / 5
    assert "MSFT" not in bars.data  # no trade there: no bar


async def test_crypto_trades_and_bars_under_alpaca_names(oms: AlpacaOms):
    bot = await trades_on(oms, "BTC/USD", [(0.5, 64000.5), (0.25, 64001)])
    data = CryptoHistoricalDataClient(bot.account_id, bot.key, url_override=oms.url)

    trade = (
        await call(
            data.get_crypto_latest_trade, CryptoLatestTradeRequest(symbol_or_symbols="BTC/USD")
        )
    )["BTC/USD"]
    hours = await call(
        data.get_crypto_bars,
        CryptoBarsRequest(symbol_or_symbols="BTC/USD", timeframe=TimeFrame.Hour),
    )
    quotes = await call(
        data.get_crypto_latest_quote, CryptoLatestQuoteRequest(symbol_or_symbols="BTC/USD")
    )

    assert (trade.price, trade.size) == (64001, 0.25)
    hour = hours["BTC/USD"][-1]
    assert (hour.open, hour.close, hour.volume) == (64000.5, 64001, 0.75)
    assert hour.timestamp.minute == 0 and hour.timestamp.second == 0
    assert set(quotes) <= {"BTC/USD"}


async def test_bars_are_paged_by_next_page_token_oldest_first(oms: AlpacaOms):
    bot = await trades_on(oms, "MSFT", [(1, 420.5)])
    await trades_on(oms, "AAPL", [(1, 183)])
    query = {"symbols": "AAPL,MSFT", "timeframe": "1Min"}
    whole = await oms.http.get("/v2/stocks/bars", params=query, headers=bot.headers)

    pages: list[dict[str, list[dict[str, object]]]] = []
    token = None
    while True:
        params = {**query, "limit": "1"} | ({"page_token": token} if token else {})
        page = (await oms.http.get("/v2/stocks/bars", params=params, headers=bot.headers)).json()
        pages.append(page["bars"])
        token = page["next_page_token"]
        if token is None:
            break

    paged = [(symbol, bar) for page in pages for symbol, bars in page.items() for bar in bars]
    assert all(sum(len(bars) for bars in page.values()) == 1 for page in pages)
    assert paged == [(s, bar) for s, bars in whole.json()["bars"].items() for bar in bars]
    assert [s for s, _ in paged] == sorted(s for s, _ in paged)  # by symbol, then time
    times = [str(bar["t"]) for s, bar in paged if s == "AAPL"]
    assert times == sorted(times) and paged[-1][0] == "MSFT" and paged[-1][1]["c"] == 420.5
