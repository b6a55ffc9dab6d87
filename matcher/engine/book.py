"""Book structures: resting orders, price levels, and one side of a book.

A price level is a FIFO queue with lazy deletion: a canceled order is marked dead
(`leaves == 0`) and dropped when it reaches the head, so cancel is O(1). A level with no
live orders is removed at once, so every level on a side has at least one live order.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from typing import final


@final
class RestingOrder:
    """The engine's working copy of one order (resting, pending a trigger, or taking)."""

    __slots__ = (
        "account_id",
        "cum",
        "entry_seq",
        "expire_at",
        "is_buy",
        "leaves",
        "order_id",
        "order_seq",
        "order_type",
        "price",
        "quantity",
        "side",
        "stop_price",
        "stp",
        "tif",
    )

    def __init__(
        self,
        order_id: str,
        account_id: str,
        side: str,
        is_buy: bool,
        order_type: str,
        tif: str,
        quantity: int,
        price: int,
        stop_price: int,
        expire_at: int,
        stp: str,
        leaves: int,
        cum: int,
        order_seq: int,
        entry_seq: int,
    ) -> None:
        self.order_id = order_id
        self.account_id = account_id
        self.side = side
        self.is_buy = is_buy
        self.order_type = order_type
        self.tif = tif
        self.quantity = quantity
        self.price = price
        self.stop_price = stop_price
        self.expire_at = expire_at
        self.stp = stp
        self.leaves = leaves
        self.cum = cum
        self.order_seq = order_seq
        self.entry_seq = entry_seq

    def copy(self) -> RestingOrder:
        return RestingOrder(
            self.order_id,
            self.account_id,
            self.side,
            self.is_buy,
            self.order_type,
            self.tif,
            self.quantity,
            self.price,
            self.stop_price,
            self.expire_at,
            self.stp,
            self.leaves,
            self.cum,
            self.order_seq,
            self.entry_seq,
        )


@final
class PriceLevel:
    """Orders at one price in time priority; `live` and `qty` count live orders only."""

    __slots__ = ("live", "orders", "price", "qty")

    def __init__(self, price: int, first: RestingOrder) -> None:
        self.price = price
        self.orders: deque[RestingOrder] = deque((first,))
        self.live = 1
        self.qty = first.leaves

    def live_orders(self) -> list[RestingOrder]:
        return [o for o in self.orders if o.leaves > 0]


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
            level.qty += order.leaves

    def remove(self, order: RestingOrder) -> None:
        """Take a live order out (lazily): its level forgets it now, its queue slot later."""
        level = self.levels[order.price]
        level.qty -= order.leaves
        level.live -= 1
        order.leaves = 0
        if level.live == 0:
            self.drop_level(order.price)

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
