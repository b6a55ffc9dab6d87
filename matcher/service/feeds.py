"""Live instrument feeds from the matcher: trades and the L2 book, off the matching path.

The worker hands over events after they are journaled and published; a background task
sends them through `FeedPublisher` (SignalR groups `trades:<symbol>` and `book:<symbol>`,
envelope `{"stream", "seq", "data"}`, books conflated) and hands each book to the optional
`book_sink` in the integer shape of `shared.ports.cache.book_key` (`{"symbol", "seq", "ts",
"bids": [[price_ticks, qty_lots, orders]], "asks": [...]}`), for the cache behind
`GET /api/book/{symbol}`, and the instrument's marks (last trade, the paper market's
reference price) to the optional `mark_sink` in the shape of `shared.ports.cache.mark_key`,
after every batch and, while an instrument is idle, every `mark_every` seconds (the paper
market's price moves with time alone). Feeds are not a record: a failed
send is logged and the stream's sequence moves on, so a client sees the gap and re-syncs
over REST. If sending falls behind, the oldest updates are dropped the same visible way.

Message data (prices and quantities as decimal strings on the instrument's grid):
- trade: `{"symbol", "trade_id", "seq", "ts", "price", "quantity", "aggressor_side"}`,
  one per match (paper fills are simulated and not market trades, so they are not sent);
- book: `{"symbol", "seq", "ts", "bids": [{"price", "quantity", "orders"}], "asks": [...],
  "last_price"}` (`seq` is the instrument sequence the book reflects).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal

import orjson

from matcher.service.venue import Venue
from shared.domain.events import Event, OrderFilled
from shared.domain.ids import trade_id
from shared.domain.instrument import Instrument
from shared.domain.numbers import units_to_str
from shared.feeds import FeedPublisher, trades_group
from shared.ports.cache import Cache, book_key, mark_key
from shared.ports.store_instruments import InstrumentRepository

log = logging.getLogger(__name__)

Data = dict[str, object]
BookSink = Callable[[str, Mapping[str, object]], Awaitable[None]]
MarkSink = Callable[[str, Mapping[str, object]], Awaitable[None]]
_ONE = Decimal(1)
_NS = 1_000_000_000
_NS_PER_DAY = 86_400 * _NS


def trades(symbol: str, events: list[Event], grid: tuple[Decimal, Decimal]) -> list[Data]:
    """One trade per match: the maker and taker fills that share a `trade_seq`."""
    fills: dict[int, list[OrderFilled]] = {}
    for event in events:
        if isinstance(event, OrderFilled):
            fills.setdefault(event.trade_seq, []).append(event)
    out = []
    tick, lot = grid
    for trade_seq, pair in fills.items():
        if len(pair) != 2 or {f.liquidity for f in pair} != {"maker", "taker"}:
            continue  # a paper fill: simulated, no counterparty
        taker = pair[0] if pair[0].liquidity == "taker" else pair[1]
        out.append(
            {
                "symbol": symbol,
                "trade_id": trade_id(symbol, trade_seq),
                "seq": trade_seq,
                "ts": taker.ts,
                "price": units_to_str(taker.last_px, tick),
                "quantity": units_to_str(taker.last_qty, lot),
                "aggressor_side": taker.side,
            }
        )
    return out


def raw_book(symbol: str, venue: Venue, ts: int, levels: int) -> Data:
    """The L2 book in integers (the cache shape), plus the last trade price in ticks."""
    bids, asks = venue.depth(levels)
    return {
        "symbol": symbol,
        "seq": venue.seq,
        "ts": ts,
        "bids": [list(level) for level in bids],
        "asks": [list(level) for level in asks],
        "last_px": venue.last_px,
    }


def paper_reference(venue: Venue, ts: int) -> int:
    """The paper market's reference price at `ts` (ticks; 0 when the venue has no paper
    market). Read only: before the first paper order anchors the walk, the walk's start
    price (what that order will see) is returned, so reading never anchors it; after, the
    simulator's own pure function of time, whose only side effect is a cache."""
    simulator = getattr(venue, "simulator", None)
    if simulator is None:
        return 0
    config = simulator.config
    if not config.prices and simulator.walk.anchor_step < 0:
        return int(config.start_price)
    return int(simulator.reference_price(ts))


def raw_mark(symbol: str, venue: Venue, ts: int) -> Data:
    """The instrument's marks now (ticks): its last trade and its paper reference price."""
    return {
        "symbol": symbol,
        "seq": venue.seq,
        "ts": ts,
        "day": ts // _NS_PER_DAY,
        "last_px": venue.last_px,
        "paper_px": paper_reference(venue, ts),
    }


def book_feed(raw: Data, grid: tuple[Decimal, Decimal]) -> Data:
    """The feed shape of a raw book: decimal strings on the instrument's grid."""
    tick, lot = grid

    def side(rows: object) -> list[Data]:
        assert isinstance(rows, list)
        return [
            {"price": units_to_str(px, tick), "quantity": units_to_str(qty, lot), "orders": n}
            for px, qty, n in rows
        ]

    last = raw["last_px"]
    assert isinstance(last, int)
    return {
        "symbol": raw["symbol"],
        "seq": raw["seq"],
        "ts": raw["ts"],
        "bids": side(raw["bids"]),
        "asks": side(raw["asks"]),
        "last_price": units_to_str(last, tick) if last else None,
    }


def cache_book_sink(cache: Cache) -> BookSink:
    """A book sink writing each instrument's latest book to `book:{symbol}` as JSON."""

    async def sink(symbol: str, book_data: Mapping[str, object]) -> None:
        await cache.set(book_key(symbol), orjson.dumps(book_data))

    return sink


def cache_mark_sink(cache: Cache) -> MarkSink:
    """A mark sink writing each instrument's marks to `mark:{symbol}` as JSON, carrying
    the marks the UTC day began with: the last ones written before it."""

    async def sink(symbol: str, mark: Mapping[str, object]) -> None:
        record = dict(mark)
        raw = await cache.get(mark_key(symbol))
        before = orjson.loads(raw) if raw is not None else None
        for name in ("last_px", "paper_px"):
            if before is None:
                start = record[name]
            elif before.get("day") != record["day"]:
                start = before.get(name) or record[name]
            else:
                start = before.get(f"start_{name}") or record[name]
            record[f"start_{name}"] = start
        await cache.set(mark_key(symbol), orjson.dumps(record))

    return sink


class MatcherFeeds:
    """Queues feed updates from the workers and sends them from one background task."""

    def __init__(
        self,
        publisher: FeedPublisher | None,
        book_sink: BookSink | None = None,
        *,
        levels: int = 20,
        max_pending: int = 10_000,
        mark_sink: MarkSink | None = None,
        mark_every: float = 1.0,
    ) -> None:
        self._publisher = publisher
        self._book_sink = book_sink
        self._mark_sink = mark_sink
        self._mark_every_ns = int(mark_every * _NS)
        self._marks: dict[str, Data] = {}  # the latest marks not sent yet, per instrument
        self._marked_at: dict[str, int] = {}
        self._levels = levels
        self._max_pending = max_pending
        self._grids: dict[str, tuple[Decimal, Decimal]] = {}
        self._pending: deque[tuple[str, list[Data], Data]] = deque()
        self._wake = asyncio.Event()
        self.dropped = 0

    async def instrument_loaded(self, symbol: str, instruments: InstrumentRepository) -> None:
        """Learn the instrument's tick and lot size (integers go out as-is without it)."""
        instrument: Instrument | None = await instruments.get(symbol)
        if instrument is not None:
            self._grids[symbol] = (instrument.tick_size, instrument.lot_size)

    def _grid(self, symbol: str) -> tuple[Decimal, Decimal]:
        return self._grids.get(symbol, (_ONE, _ONE))

    def events(self, symbol: str, events: list[Event], venue: Venue, ts: int) -> None:
        """Queue the trades among `events` and the book after them."""
        grid = self._grid(symbol)
        self._queue(symbol, trades(symbol, events, grid), raw_book(symbol, venue, ts, self._levels))
        self._mark(symbol, venue, ts)

    def idle(self, symbol: str, venue: Venue, ts: int) -> None:
        """The instrument had nothing to do: its marks go out if they are due."""
        if ts - self._marked_at.get(symbol, 0) >= self._mark_every_ns:
            self._mark(symbol, venue, ts)
            self._wake.set()

    def _mark(self, symbol: str, venue: Venue, ts: int) -> None:
        if self._mark_sink is not None:
            self._marks[symbol] = raw_mark(symbol, venue, ts)  # conflated: the latest wins
            self._marked_at[symbol] = ts

    def book_changed(self, symbol: str, venue: Venue, ts: int) -> None:
        """Queue the current book and marks (after a recovery)."""
        self._queue(symbol, [], raw_book(symbol, venue, ts, self._levels))
        self._mark(symbol, venue, ts)

    def _queue(self, symbol: str, trade_list: list[Data], book_data: Data) -> None:
        self._pending.append((symbol, trade_list, book_data))
        while len(self._pending) > self._max_pending:
            lost_symbol, lost_trades, _ = self._pending.popleft()
            self.dropped += 1
            if self._publisher is not None:
                for _ in lost_trades:  # burn the numbers: subscribers see the gap
                    self._publisher.sequencer.next(trades_group(lost_symbol))
        self._wake.set()

    async def _send(self, symbol: str, trade_list: list[Data], raw: Data) -> None:
        publisher = self._publisher
        if publisher is not None:
            for trade in trade_list:
                await publisher.trade(symbol, trade)
            await publisher.book(symbol, book_feed(raw, self._grid(symbol)))
        if self._book_sink is not None:
            await self._book_sink(symbol, {k: v for k, v in raw.items() if k != "last_px"})

    async def drain(self) -> None:
        """Send everything queued now (used by `run` and at shutdown)."""
        while self._pending:
            symbol, trade_list, book_data = self._pending.popleft()
            try:
                await self._send(symbol, trade_list, book_data)
            except Exception:
                log.warning("%s: a live feed update was not delivered", symbol, exc_info=True)
        marks, self._marks = self._marks, {}
        if self._mark_sink is not None:
            for symbol, mark in marks.items():
                try:
                    await self._mark_sink(symbol, mark)
                except Exception:
                    log.warning("%s: the marks were not published", symbol, exc_info=True)

    async def run(self) -> None:
        """Send queued updates, and conflated books as they fall due, until cancelled."""
        flusher = None
        if self._publisher is not None:
            flusher = asyncio.create_task(self._publisher.run_book_flusher())
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await self.drain()
        finally:
            if flusher is not None:
                flusher.cancel()
