"""Market data at the paths alpaca-py's historical data clients call: `/v2/stocks/...`
(`StockHistoricalDataClient`, and the single-symbol paths older clients use) and
`/v1beta3/crypto/{loc}/...` (`CryptoHistoricalDataClient`): latest quote (top of the book),
latest trade and bar, and bars (OHLCV of the public trades, oldest first, paged by
`next_page_token`). `feed`, `adjustment`, `asof` and `currency` are accepted and ignored:
there is one market here, in one currency. Unknown symbols are left out of the answer.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from functions.alpaca.deps import CallerDep, ContainerDep, PageReaderDep
from shared.alpaca.market_data import alpaca_bar, alpaca_quote, alpaca_trade
from shared.alpaca.symbols import alpaca_name, find_instrument
from shared.bootstrap import Container
from shared.domain.instrument import Instrument
from shared.services import codes, market_data
from shared.services.errors import InvalidRequest
from shared.services.market_data import parse_timeframe
from shared.services.views import datetime_to_ns

router = APIRouter(tags=["alpaca market data"])

Symbols = Annotated[str, Query(min_length=1, max_length=4000)]
Limit = Annotated[int, Query(ge=1, le=10_000)]
Token = Annotated[str | None, Query(max_length=500)]
Sort = Literal["asc", "desc"]
_DAY_NS = 86_400 * 1_000_000_000


def _json(body: object) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


async def _instruments(container: Container, symbols: str) -> list[tuple[str, Instrument]]:
    """(the name the client used, the instrument) of each known symbol, in request order."""
    found: dict[str, tuple[str, Instrument]] = {}
    for name in symbols.split(","):
        instrument = await find_instrument(container, name)
        if instrument is not None and instrument.symbol not in found:
            found[instrument.symbol] = (name.strip().upper(), instrument)
    return list(found.values())


def _crypto(instrument: Instrument) -> bool:
    return alpaca_name(instrument).crypto


async def _latest_quotes(container: Container, symbols: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, instrument in await _instruments(container, symbols):
        quote = await market_data.top_of_book(container, instrument.symbol)
        if quote is not None:
            out[name] = alpaca_quote(instrument, quote, _crypto(instrument))
    return out


async def _latest_trades(container: Container, symbols: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, instrument in await _instruments(container, symbols):
        trade = await market_data.last_trade(container, instrument.symbol)
        if trade is not None:
            out[name] = alpaca_trade(instrument, trade, _crypto(instrument))
    return out


async def _latest_bars(container: Container, symbols: str) -> dict[str, object]:
    minute = parse_timeframe("1Min")
    out: dict[str, object] = {}
    for name, instrument in await _instruments(container, symbols):
        trade = await market_data.last_trade(container, instrument.symbol)
        if trade is None:
            continue
        start = minute.start_of(trade.executed_at)
        made, _ = await market_data.bars(
            container, instrument.symbol, minute, start, minute.after(start), 1
        )
        if made:
            out[name] = alpaca_bar(instrument, made[0])
    return out


def _token(symbol: str, start: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([symbol, start])).decode().rstrip("=")


def _untoken(token: str) -> tuple[str, int]:
    try:
        symbol, start = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError):
        symbol, start = None, None
    if not isinstance(symbol, str) or type(start) is not int:
        raise InvalidRequest(codes.INVALID_CURSOR, "invalid page_token", "page_token")
    return symbol, start


def _ns(value: str | None, default: int) -> int:
    """RFC 3339 (or a bare date, as Alpaca takes) in ns since the epoch."""
    if value is None:
        return default
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(codes.INVALID_VALUE, f"invalid time {value!r}", "start") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return datetime_to_ns(moment)


async def _bars(
    container: Container,
    symbols: str,
    timeframe: str,
    start: str | None,
    end: str | None,
    limit: int,
    page_token: str | None,
    sort: Sort,
) -> tuple[dict[str, list[object]], str | None]:
    """Bars of each symbol (by symbol, then time); `limit` bars a page across symbols."""
    frame = parse_timeframe(timeframe)
    now = container.clock()
    until = _ns(end, now + 1)
    since = _ns(start, now // _DAY_NS * _DAY_NS)  # Alpaca's default: the current day
    resume = None if page_token is None else _untoken(page_token)
    out: dict[str, list[object]] = {}
    left = limit
    named = sorted(await _instruments(container, symbols), key=lambda pair: pair[1].symbol)
    for name, instrument in named:
        if resume is not None and instrument.symbol < resume[0]:
            continue
        if sort == "desc":
            window_end = until
            if resume is not None and instrument.symbol == resume[0]:  # through its bar
                window_end = min(until, frame.after(resume[1]))
            made, _ = await market_data.bars(
                container, instrument.symbol, frame, since, window_end, 10**9
            )
            made.reverse()
            following = made[left].start if len(made) > left else None
            made = made[:left]
        else:
            first = since
            if resume is not None and instrument.symbol == resume[0]:
                first = resume[1]
            made, following = await market_data.bars(
                container, instrument.symbol, frame, first, until, left
            )
        if made:
            out[name] = [alpaca_bar(instrument, bar) for bar in made]
        left -= len(made)
        if following is not None:
            return out, _token(instrument.symbol, following)
        if left == 0:
            later = [i for _, i in named if i.symbol > instrument.symbol]
            return out, (_token(later[0].symbol, since) if later else None)
    return out, None


# ------------------------------------------------------------------ stocks (/v2)


@router.get("/v2/stocks/quotes/latest")
async def stock_latest_quotes(
    container: ContainerDep, caller: CallerDep, symbols: Symbols
) -> Response:
    return _json({"quotes": await _latest_quotes(container, symbols)})


@router.get("/v2/stocks/trades/latest")
async def stock_latest_trades(
    container: ContainerDep, caller: CallerDep, symbols: Symbols
) -> Response:
    return _json({"trades": await _latest_trades(container, symbols)})


@router.get("/v2/stocks/bars/latest")
async def stock_latest_bars(
    container: ContainerDep, caller: CallerDep, symbols: Symbols
) -> Response:
    return _json({"bars": await _latest_bars(container, symbols)})


@router.get("/v2/stocks/bars")
async def stock_bars(
    container: ContainerDep,
    caller: PageReaderDep,
    symbols: Symbols,
    timeframe: Annotated[str, Query(max_length=12)],
    start: Annotated[str | None, Query(max_length=40)] = None,
    end: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = 1000,
    page_token: Token = None,
    sort: Sort = "asc",
) -> Response:
    bars, token = await _bars(container, symbols, timeframe, start, end, limit, page_token, sort)
    return _json({"bars": bars, "next_page_token": token})


SymbolPath = Annotated[str, Path(max_length=32)]


@router.get("/v2/stocks/{symbol}/quotes/latest")
async def stock_latest_quote(
    symbol: SymbolPath, container: ContainerDep, caller: CallerDep
) -> Response:
    quotes = await _latest_quotes(container, symbol)
    return _json({"symbol": symbol, "quote": next(iter(quotes.values()), None)})


@router.get("/v2/stocks/{symbol}/trades/latest")
async def stock_latest_trade(
    symbol: SymbolPath, container: ContainerDep, caller: CallerDep
) -> Response:
    trades = await _latest_trades(container, symbol)
    return _json({"symbol": symbol, "trade": next(iter(trades.values()), None)})


@router.get("/v2/stocks/{symbol}/bars")
async def stock_symbol_bars(
    symbol: SymbolPath,
    container: ContainerDep,
    caller: PageReaderDep,
    timeframe: Annotated[str, Query(max_length=12)],
    start: Annotated[str | None, Query(max_length=40)] = None,
    end: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = 1000,
    page_token: Token = None,
    sort: Sort = "asc",
) -> Response:
    bars, token = await _bars(container, symbol, timeframe, start, end, limit, page_token, sort)
    return _json(
        {"symbol": symbol, "bars": next(iter(bars.values()), []), "next_page_token": token}
    )


# ------------------------------------------------------------------ crypto (/v1beta3)

Location = Annotated[str, Path(pattern=r"^[a-z]{2,8}$")]


@router.get("/v1beta3/crypto/{loc}/latest/quotes")
async def crypto_latest_quotes(
    loc: Location, container: ContainerDep, caller: CallerDep, symbols: Symbols
) -> Response:
    return _json({"quotes": await _latest_quotes(container, symbols)})


@router.get("/v1beta3/crypto/{loc}/latest/trades")
async def crypto_latest_trades(
    loc: Location, container: ContainerDep, caller: CallerDep, symbols: Symbols
) -> Response:
    return _json({"trades": await _latest_trades(container, symbols)})


@router.get("/v1beta3/crypto/{loc}/latest/bars")
async def crypto_latest_bars(
    loc: Location, container: ContainerDep, caller: CallerDep, symbols: Symbols
) -> Response:
    return _json({"bars": await _latest_bars(container, symbols)})


@router.get("/v1beta3/crypto/{loc}/bars")
async def crypto_bars(
    loc: Location,
    container: ContainerDep,
    caller: PageReaderDep,
    symbols: Symbols,
    timeframe: Annotated[str, Query(max_length=12)],
    start: Annotated[str | None, Query(max_length=40)] = None,
    end: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = 1000,
    page_token: Token = None,
    sort: Sort = "asc",
) -> Response:
    bars, token = await _bars(container, symbols, timeframe, start, end, limit, page_token, sort)
    return _json({"bars": bars, "next_page_token": token})
