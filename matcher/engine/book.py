"""Book structures: resting orders, price levels, and one side of a book.

A price level is a FIFO queue with lazy deletion: a canceled order is marked dead
(`leaves_qty == 0`) and dropped when it reaches the head, so cancel is O(1). A level with no
live orders is removed at once, so every level on a side has at least one live order.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from typing import final

from shared.domain.codes import BUY
from shared.domain.commands import NewOrder

ROW_FIELDS = (
    "order_id",
    "account_id",
    "side",
    "order_type",
    "time_in_force",
    "quantity",
    "price",
    "stop_price",
    "expire_at",
    "self_match_prevention",
    "leaves_qty",
    "cum_qty",
    "order_seq",
    "entry_seq",
)
"""A snapshot row's columns, in order (rows are lists: renaming a field changes no row)."""


@final
class RestingOrder:
    """The engine's working copy of one order (resting, pending a trigger, or taking).

    Quantities in lots, prices in ticks, names as in FIX; `self_match_prevention` is the
    account's self-trade prevention mode (FIX SelfMatchPreventionInstruction, tag 2964).
    """

    __slots__ = (
        "account_id",
        "cum_qty",
        "entry_seq",
        "expire_at",
        "is_buy",
        "leaves_qty",
        "order_id",
        "order_seq",
        "order_type",
        "price",
        "quantity",
        "self_match_prevention",
        "side",
        "stop_price",
        "time_in_force",
    )

    def __init__(
        self,
        order_id: str,
        account_id: str,
        side: str,
        is_buy: bool,
        order_type: str,
        time_in_force: str,
        quantity: int,
        price: int,
        stop_price: int,
        expire_at: int,
        self_match_prevention: str,
        leaves_qty: int,
        cum_qty: int,
        order_seq: int,
        entry_seq: int,
    ) -> None:
        self.order_id = order_id
        self.account_id = account_id
        self.side = side
        self.is_buy = is_buy
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.quantity = quantity
        self.price = price
        self.stop_price = stop_price
        self.expire_at = expire_at
        self.self_match_prevention = self_match_prevention
        self.leaves_qty = leaves_qty
        self.cum_qty = cum_qty
        self.order_seq = order_seq
        self.entry_seq = entry_seq

    @staticmethod
    def accepted(c: NewOrder, entry_seq: int) -> RestingOrder:
        """A new order as its OrderAccepted (order_seq 1) leaves it: nothing filled yet."""
        return RestingOrder(
            c.order_id,
            c.account_id,
            c.side,
            c.side == BUY,
            c.order_type,
            c.time_in_force,
            c.quantity,
            c.price,
            c.stop_price,
            c.expire_at,
            c.stp,
            c.quantity,
            0,
            1,
            entry_seq,
        )

    def copy(self) -> RestingOrder:
        return RestingOrder(
            self.order_id,
            self.account_id,
            self.side,
            self.is_buy,
            self.order_type,
            self.time_in_force,
            self.quantity,
            self.price,
            self.stop_price,
            self.expire_at,
            self.self_match_prevention,
            self.leaves_qty,
            self.cum_qty,
            self.order_seq,
            self.entry_seq,
        )

    def to_row(self) -> list[object]:
        """The order as a snapshot row (JSON-able; `from_row` reads it back)."""
        return [getattr(self, name) for name in ROW_FIELDS]

    @staticmethod
    def from_row(row: list[object]) -> RestingOrder:
        """The order a `to_row` row describes (the venues' snapshots store them)."""
        side = str(row[2])
        return RestingOrder(
            str(row[0]),
            str(row[1]),
            side,
            side == BUY,
            str(row[3]),
            str(row[4]),
            int(str(row[5])),
            int(str(row[6])),
            int(str(row[7])),
            int(str(row[8])),
            str(row[9]),
            int(str(row[10])),
            int(str(row[11])),
            int(str(row[12])),
            int(str(row[13])),
        )


@final
class PriceLevel:
    """Orders at one price in time priority; `live` and `qty` count live orders only."""

    __slots__ = ("live", "orders", "price", "qty")

    def __init__(self, price: int, first: RestingOrder) -> None:
        self.price = price
        self.orders: deque[RestingOrder] = deque((first,))
        self.live = 1
        self.qty = first.leaves_qty

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
            level.qty += order.leaves_qty

    def remove(self, order: RestingOrder) -> None:
        """Take a live order out (lazily): its level forgets it now, its queue slot later."""
        level = self.levels[order.price]
        level.qty -= order.leaves_qty
        level.live -= 1
        order.leaves_qty = 0
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
