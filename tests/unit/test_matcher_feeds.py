"""What the matcher puts on the live feeds: one trade per match, books on the price grid,
and visible gaps (never silent holes) when updates are lost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from matcher.service.feeds import (
    MatcherFeeds,
    book_feed,
    cache_mark_sink,
    paper_reference,
    raw_book,
    raw_mark,
    trades,
)
from matcher.service.venue import new_venue
from shared.adapters.cache_memory import MemoryCache
from shared.domain.commands import NewOrder
from shared.domain.events import Event
from shared.feeds import FeedPublisher
from shared.ports.cache import mark_key

T = 1_700_000_000_000_000_000
GRID = (Decimal("0.01"), Decimal("1"))


def order(i: int, account: str, side: str, qty: int, px: int, venue: str = "internal") -> NewOrder:
    return NewOrder(
        f"c{i}", T + i, "AAA", f"o{i}", account, side, "limit", "gtc", qty, px, venue=venue
    )


def run(*commands: NewOrder) -> tuple[Any, list[Event]]:
    venue = new_venue("AAA")
    out: list[Event] = []
    for c in commands:
        venue.handle(c, out)
    return venue, out


def test_a_match_is_one_trade_with_the_takers_side_and_the_makers_price() -> None:
    _, events = run(order(1, "a", "sell", 5, 15025), order(2, "b", "buy", 3, 15100))
    (trade,) = trades("AAA", events, GRID)
    assert trade["price"] == "150.25" and trade["quantity"] == "3"
    assert trade["aggressor_side"] == "buy"
    assert trade["trade_id"] == f"AAA-T{trade['seq']}"


def test_paper_fills_are_not_market_trades() -> None:
    market = NewOrder("c2", T + 10**12, "AAA", "o2", "p", "buy", "market", "ioc", 5, venue="paper")
    _, events = run(order(1, "p", "buy", 5, 10**6, venue="paper"), market)
    assert any(e.KIND == "order_filled" for e in events)
    assert trades("AAA", events, GRID) == []


def test_the_book_goes_out_in_decimal_strings_and_to_the_cache_in_integers() -> None:
    venue, _ = run(order(1, "a", "sell", 5, 15025), order(2, "b", "buy", 2, 15000))
    raw = raw_book("AAA", venue, T, 10)
    assert raw["bids"] == [[15000, 2, 1]] and raw["asks"] == [[15025, 5, 1]]
    feed = book_feed(raw, GRID)
    assert feed["bids"] == [{"price": "150", "quantity": "2", "orders": 1}]
    assert feed["asks"] == [{"price": "150.25", "quantity": "5", "orders": 1}]
    assert feed["seq"] == venue.seq and feed["last_price"] is None


class FlakyNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.fail = 0

    async def send_to_group(self, group: str, target: str, args: Any) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("signalr down")
        self.sent.append((group, args[0]))


async def test_lost_feed_updates_leave_a_gap_subscribers_can_see() -> None:
    notifier = FlakyNotifier()
    feeds = MatcherFeeds(FeedPublisher(notifier), max_pending=2)  # type: ignore[arg-type]
    venue, events = run(order(1, "a", "sell", 9, 100), order(2, "b", "buy", 1, 100))
    for _ in range(4):  # two of these fall off the queue before anything is sent
        feeds.events("AAA", events, venue, T)
    notifier.fail = 1  # and the next trade send fails
    await feeds.drain()
    seqs = [envelope["seq"] for group, envelope in notifier.sent if group == "trades:AAA"]
    assert seqs == [4]  # 1, 2 dropped, 3 failed: the subscriber sees 4 and re-syncs
    assert feeds.dropped == 2


def test_reading_the_paper_price_for_a_mark_changes_nothing_the_matcher_replays() -> None:
    venue = new_venue("AAA", reference_price=10_000)
    untouched = new_venue("AAA", reference_price=10_000)
    assert paper_reference(venue, T) == 10_000  # the walk's start, not anchored by reading
    paper = NewOrder(
        "c1", T + 5 * 10**9, "AAA", "o1", "p", "buy", "market", "ioc", 1, venue="paper"
    )
    out: list[Event] = []
    venue.handle(paper, out)
    untouched.handle(paper, [])
    later = T + 3_600 * 10**9
    assert paper_reference(venue, later) > 0
    assert venue.state_hash() == untouched.state_hash()
    assert raw_mark("AAA", venue, later)["paper_px"] == paper_reference(venue, later)


async def test_marks_reach_the_cache_with_the_marks_the_day_began_with() -> None:
    cache = MemoryCache()
    feeds = MatcherFeeds(None, mark_sink=cache_mark_sink(cache), mark_every=1.0)
    venue, events = run(order(1, "a", "sell", 9, 100), order(2, "b", "buy", 1, 100))
    day = 86_400 * 10**9
    feeds.events("AAA", events, venue, T)
    await feeds.drain()
    first = orjson.loads(await cache.get(mark_key("AAA")) or b"{}")
    assert (first["last_px"], first["start_last_px"], first["seq"]) == (100, 100, venue.seq)
    for later in (order(3, "b", "buy", 8, 100), order(4, "a", "sell", 1, 105)):
        venue.handle(later, [])
    venue.handle(order(5, "b", "buy", 1, 105), [])
    feeds.idle("AAA", venue, T + 10**8)  # not due yet: nothing goes out
    await feeds.drain()
    assert orjson.loads(await cache.get(mark_key("AAA")) or b"{}")["last_px"] == 100
    feeds.idle("AAA", venue, T + day)  # the next day: the day began at the last mark, 100
    await feeds.drain()
    nextday = orjson.loads(await cache.get(mark_key("AAA")) or b"{}")
    assert (nextday["last_px"], nextday["start_last_px"]) == (105, 100)
    assert nextday["day"] == (T + day) // day
