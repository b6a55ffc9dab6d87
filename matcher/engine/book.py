"""Book structures: price levels and one side of a book.

A price level is a FIFO queue with lazy deletion: an order that ended is marked dead
(`leaves_qty == 0`) and dropped when it reaches the head, so cancel is O(1). An order that
leaves the book but stays open (a contingent leg going back to held, or released for more)
is taken out of the queue at once (`take_out`), so an open order is queued at most once. A
level with no live orders is removed at once, so every level on a side has at least one live
order. A level's `qty` is what the book shows: an iceberg counts its displayed part only.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from typing import final

from matcher.engine.working import RestingOrder


@final
class PriceLevel:
    """Orders at one price in time priority; `live` and `qty` count live orders only."""

    __slots__ = ("live", "orders", "price", "qty")

    def __init__(self, price: int, first: RestingOrder) -> None:
        self.price = price
        self.orders: deque[RestingOrder] = deque((first,))
        self.live = 1
        self.qty = first.visible if first.display_qty else first.leaves_qty

    def live_orders(self) -> list[RestingOrder]:
        return [o for o in self.orders if o.leaves_qty > 0]


@final
class BookSide:
    """One side of a book: levels by price and the sorted list of their prices."""

    __slots__ = ("is_buy", "levels", "prices")

    def __init__(self, is_buy: bool) -> None:
        self.is_buy = is_buy
        self.levels: dict[int, PriceLevel] = {}
        self.prices: list[int] = []  # ascending; the best bid is last, the best ask first

    def add(self, order: RestingOrder) -> None:
        level = self.levels.get(order.price)
        if level is None:
            self.levels[order.price] = PriceLevel(order.price, order)
            insort(self.prices, order.price)
        else:
            level.orders.append(order)
            level.live += 1
            level.qty += order.visible if order.display_qty else order.leaves_qty

    def remove(self, order: RestingOrder) -> None:
        """Take a live order out (lazily): its level forgets it now, its queue slot later."""
        level = self.levels[order.price]
        level.qty -= order.shown()
        level.live -= 1
        order.leaves_qty = 0
        if level.live == 0:
            self.drop_level(order.price)

    def take_out(self, order: RestingOrder) -> None:
        """Take an order that stays open out of the book, queue slot included (O(level))."""
        level = self.levels[order.price]
        level.orders.remove(order)
        level.qty -= order.shown()
        level.live -= 1
        if level.live == 0:
            self.drop_level(order.price)

    def to_back(self, order: RestingOrder, level: PriceLevel) -> None:
        """An iceberg's next slice: it goes to the back of its level's queue (it is at the
        head: the slice before it was just filled)."""
        level.orders.popleft()
        level.orders.append(order)
        level.qty += order.visible

    def drop_level(self, price: int) -> None:
        del self.levels[price]
        prices = self.prices
        del prices[bisect_left(prices, price)]

    def best_first(self) -> list[int]:
        return self.prices[::-1] if self.is_buy else list(self.prices)

    def depth(self, n: int) -> list[tuple[int, int, int]]:
        """The best `n` levels as (price, quantity, order count)."""
        out: list[tuple[int, int, int]] = []
        for price in self.best_first()[:n]:
            level = self.levels[price]
            out.append((price, level.qty, level.live))
        return out

    def orders_in_priority(self) -> list[RestingOrder]:
        out: list[RestingOrder] = []
        for price in self.best_first():
            out.extend(self.levels[price].live_orders())
        return out
