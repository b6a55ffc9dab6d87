"""Market data from this OMS's own venue: the top of an instrument's book (the L2 book the
matcher publishes to the cache), its latest public trade, and bars (OHLCV) made from its
public trades. Paper fills are simulated, nobody's trade: they are in no bar.

Bars are left-labelled (a bar's time is when it begins) on UTC boundaries: minutes, hours
and days from the epoch, weeks from Monday, months from the first of the month (a multiple
of months from January). A bar exists only where a trade happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from shared.ports.cache import book_key
from shared.ports.store_executions import Execution
from shared.ports.store_paging import MAX_PAGE_SIZE
from shared.services import codes
from shared.services.deps import Deps
from shared.services.errors import InvalidRequest

_NS = 1_000_000_000
_UNIT_NS = {"Min": 60 * _NS, "Hour": 3_600 * _NS, "Day": 86_400 * _NS, "Week": 7 * 86_400 * _NS}
_UNITS = {
    "Min": "Min", "T": "Min", "Hour": "Hour", "H": "Hour", "Day": "Day", "D": "Day",
    "Week": "Week", "W": "Week", "Month": "Month", "M": "Month",
}  # fmt: skip
_MAX_AMOUNT = {"Min": 59, "Hour": 23, "Day": 1, "Week": 1, "Month": 12}
_TIMEFRAME = re.compile(r"^([1-9][0-9]{0,2})(Min|T|Hour|H|Day|D|Week|W|Month|M)$")
_MONDAY = 4 * 86_400 * _NS  # 1970-01-01 was a Thursday: the first Monday is 4 days on


@dataclass(frozen=True, slots=True)
class Timeframe:
    """A bar's length: `amount` of `unit` (Min, Hour, Day, Week, Month)."""

    amount: int
    unit: str

    def start_of(self, ns: int) -> int:
        """When the bar holding the instant `ns` begins."""
        if self.unit == "Month":
            moment = datetime.fromtimestamp(ns // _NS, UTC)
            index = (moment.year * 12 + moment.month - 1) // self.amount * self.amount
            return _ns(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC))
        step = _UNIT_NS[self.unit] * self.amount
        offset = _MONDAY if self.unit == "Week" else 0
        return (ns - offset) // step * step + offset

    def after(self, start: int) -> int:
        """When the bar after the one beginning at `start` begins."""
        if self.unit == "Month":
            moment = datetime.fromtimestamp(start // _NS, UTC)
            index = moment.year * 12 + moment.month - 1 + self.amount
            return _ns(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC))
        return start + _UNIT_NS[self.unit] * self.amount


def _ns(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1)) * 1_000


def parse_timeframe(text: str) -> Timeframe:
    """`1Min`, `15Min`, `1Hour`, `1Day`, `1Week`, `1Month` (and `1T`, `1H`, `1D`, `1W`,
    `1M`); InvalidRequest for anything else or out of range (Min 1-59, Hour 1-23, Day and
    Week 1, Month 1, 2, 3, 4, 6 or 12)."""
    match = _TIMEFRAME.match(text)
    unit = _UNITS.get(match.group(2), "") if match else ""
    amount = int(match.group(1)) if match else 0
    if not unit or amount > _MAX_AMOUNT[unit] or (unit == "Month" and 12 % amount):
        raise InvalidRequest(codes.INVALID_VALUE, f"invalid timeframe {text!r}", "timeframe")
    return Timeframe(amount, unit)


@dataclass(frozen=True, slots=True)
class Quote:
    """The top of the book: prices in ticks (None: that side is empty), sizes in lots."""

    ts: int
    bid_price: int | None
    bid_size: int
    ask_price: int | None
    ask_size: int


async def top_of_book(deps: Deps, symbol: str) -> Quote | None:
    """The best bid and offer of the latest book the matcher published; None before any."""
    raw = await deps.cache.get(book_key(symbol))
    if raw is None:
        return None
    book = orjson.loads(raw)
    bids, asks = book.get("bids") or [], book.get("asks") or []
    bid = (int(bids[0][0]), int(bids[0][1])) if bids else (None, 0)
    ask = (int(asks[0][0]), int(asks[0][1])) if asks else (None, 0)
    return Quote(int(book.get("ts", 0)), bid[0], bid[1], ask[0], ask[1])


async def last_trade(deps: Deps, symbol: str) -> Execution | None:
    """The instrument's latest public trade (the maker's row), None before any."""
    trades = await deps.store.executions.list_trades(symbol, 1)
    return trades[0] if trades else None


@dataclass(slots=True)
class Bar:
    """One bar: prices in ticks, `volume` in lots, `notional` in ticks x lots."""

    start: int
    open: int
    high: int
    low: int
    close: int
    volume: int = 0
    trades: int = 0
    notional: int = 0

    def add(self, trade: Execution) -> None:
        self.high = max(self.high, trade.price)
        self.low = min(self.low, trade.price)
        self.close = trade.price
        self.volume += trade.quantity
        self.trades += 1
        self.notional += trade.quantity * trade.price


async def bars(
    deps: Deps, symbol: str, timeframe: Timeframe, since: int, until: int, limit: int
) -> tuple[list[Bar], int | None]:
    """The first `limit` bars of the trades with `since <= executed_at < until`, oldest
    first, and where the next bar begins when there are more (None when not). `since` is
    taken back to the start of its bar, so every bar is whole."""
    since = timeframe.start_of(since)
    made: list[Bar] = []
    after: tuple[int, str] | None = None
    while True:
        trades = await deps.store.executions.list_trades_between(
            symbol, since=since, until=until, after=after, limit=MAX_PAGE_SIZE
        )
        for trade in trades:
            start = timeframe.start_of(trade.executed_at)
            if made and made[-1].start == start:
                made[-1].add(trade)
                continue
            if len(made) == limit:
                return made, start
            made.append(Bar(start, trade.price, trade.price, trade.price, trade.price))
            made[-1].add(trade)
        if len(trades) < MAX_PAGE_SIZE:
            return made, None
        after = (trades[-1].executed_at, trades[-1].execution_id)
