"""The venues' working copy of an order, the contingent group it may belong to, and an
account's net position in the instrument.

A working order is in one place at a time (`where`): in hand (just accepted, or taking
liquidity), resting in the book, parked waiting for its trigger, held (a contingent leg with
nothing live yet), pending (a leg released during a matching step, worked when the step
ends), or done. Its quantities always add up: `cum + leaves + held + canceled == quantity`,
with `canceled` the part the venue took away without a fill while it stayed open.

Snapshot rows: the first 14 columns (`ROW_FIELDS`) are what every order has; an order that
uses a newer instruction carries one more column, a dict of its other fields that differ
from their defaults (`EXTRA_DEFAULTS`), so a row written before they existed still reads
and a plain order's row is unchanged.
"""

from __future__ import annotations

from typing import Final, final

from shared.domain.codes import BUY, SIMPLE
from shared.domain.commands import NewOrder

IN_HAND: Final = 0  # just accepted, or the taker of a matching step: in no container
IN_BOOK: Final = 1
PARKED: Final = 2  # a stop waiting for its trigger
HELD: Final = 3  # a contingent leg with nothing live
PENDING: Final = 4  # a leg released during a matching step, worked when the step ends
DONE: Final = 5

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

EXTRA_DEFAULTS: dict[str, object] = {
    "held_qty": 0,
    "display_qty": 0,
    "visible": 0,
    "post_only": False,
    "reduce_only": False,
    "trail_amount": 0,
    "trail_cbps": 0,
    "hwm": 0,
    "order_class": SIMPLE,
    "leg": "",
    "parent_order_id": "",
}
"""A row's extra column: the fields newer than `ROW_FIELDS` and their defaults."""


@final
class Group:
    """A contingent group's live members: its entry (bracket, OTO) and exits. A member that
    ended is None; the exits of a bracket and of an OCO are an OCO pair."""

    __slots__ = ("entry", "order_class", "stop_loss", "take_profit")

    def __init__(self, order_class: str) -> None:
        self.order_class = order_class
        self.entry: RestingOrder | None = None
        self.take_profit: RestingOrder | None = None
        self.stop_loss: RestingOrder | None = None


@final
class RestingOrder:
    """The engine's working copy of one order (resting, pending a trigger, held or taking).

    Quantities in lots, prices in ticks, names as in FIX; `self_match_prevention` is the
    account's self-trade prevention mode (FIX SelfMatchPreventionInstruction, tag 2964).
    `visible` is the displayed part of an iceberg (`display_qty` > 0) still in the book;
    `hwm` a trailing stop's high-water mark (0: not tracking yet). `linked`: the order has
    bookkeeping beyond the book (a group, reduce-only, an account whose reduce-only orders
    follow its fills: see `matcher.engine.positions`)."""

    __slots__ = (
        "account_id",
        "cum_qty",
        "display_qty",
        "entry_seq",
        "expire_at",
        "group",
        "held_qty",
        "hwm",
        "is_buy",
        "leaves_qty",
        "leg",
        "linked",
        "order_class",
        "order_id",
        "order_seq",
        "order_type",
        "parent_order_id",
        "post_only",
        "price",
        "quantity",
        "reduce_only",
        "self_match_prevention",
        "side",
        "stop_price",
        "time_in_force",
        "trail_amount",
        "trail_cbps",
        "triggered",
        "visible",
        "where",
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
        self.held_qty = 0
        self.display_qty = 0
        self.visible = 0
        self.post_only = False
        self.reduce_only = False
        self.trail_amount = 0
        self.trail_cbps = 0
        self.hwm = 0
        self.order_class = SIMPLE
        self.leg = ""
        self.parent_order_id = ""
        self.group: Group | None = None
        self.linked = False
        self.triggered = False  # a stop leg released while it rested triggered (stop-limit)
        self.where = IN_HAND

    @staticmethod
    def accepted(c: NewOrder, entry_seq: int) -> RestingOrder:
        """A new order as its OrderAccepted (order_seq 1) leaves it: nothing filled yet, all
        of it live (a contingent leg's venue moves it to held)."""
        o = RestingOrder(
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
        if c.display_qty:
            o.display_qty = c.display_qty
        if c.post_only:
            o.post_only = True
        if c.reduce_only:
            o.reduce_only = True
            o.linked = True
        if c.trail_amount or c.trail_cbps:
            o.trail_amount = c.trail_amount
            o.trail_cbps = c.trail_cbps
        if c.leg:  # (a contingent order: its group gave it a leg)
            o.order_class = c.order_class
            o.leg = c.leg
            o.parent_order_id = c.parent_order_id
        return o

    def canceled_qty(self) -> int:
        """What the venue canceled while the order stayed open (never filled, not open)."""
        return self.quantity - self.cum_qty - self.leaves_qty - self.held_qty

    def shown(self) -> int:
        """What the book shows of it: an iceberg's displayed part, else all its leaves."""
        return self.visible if self.display_qty else self.leaves_qty

    def copy(self) -> RestingOrder:
        o = RestingOrder(
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
        o.held_qty = self.held_qty
        o.display_qty = self.display_qty
        o.visible = self.visible
        o.post_only = self.post_only
        o.reduce_only = self.reduce_only
        o.trail_amount = self.trail_amount
        o.trail_cbps = self.trail_cbps
        o.hwm = self.hwm
        o.order_class = self.order_class
        o.leg = self.leg
        o.parent_order_id = self.parent_order_id
        o.group = self.group
        o.linked = self.linked
        o.where = self.where
        return o

    def extras(self) -> dict[str, object]:
        """The fields newer than ROW_FIELDS that differ from their defaults."""
        values: dict[str, object] = {
            "held_qty": self.held_qty,
            "display_qty": self.display_qty,
            "visible": self.visible,
            "post_only": self.post_only,
            "reduce_only": self.reduce_only,
            "trail_amount": self.trail_amount,
            "trail_cbps": self.trail_cbps,
            "hwm": self.hwm,
            "order_class": self.order_class,
            "leg": self.leg,
            "parent_order_id": self.parent_order_id,
        }
        return {k: v for k, v in values.items() if v != EXTRA_DEFAULTS[k]}

    def to_row(self) -> list[object]:
        """The order as a snapshot row (JSON-able; `from_row` reads it back)."""
        row: list[object] = [
            self.order_id,
            self.account_id,
            self.side,
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
        ]
        extras = self.extras()
        if extras:
            row.append(extras)
        return row

    @staticmethod
    def from_row(row: list[object]) -> RestingOrder:
        """The order a `to_row` row describes (the venues' snapshots store them); a row may
        carry more columns after the first 14 (the simulator's), and the extras dict last."""
        side = str(row[2])
        o = RestingOrder(
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
        extras = row[-1]
        if isinstance(extras, dict):
            o.held_qty = int(extras.get("held_qty", 0))
            o.display_qty = int(extras.get("display_qty", 0))
            o.visible = int(extras.get("visible", 0))
            o.post_only = bool(extras.get("post_only", False))
            o.reduce_only = bool(extras.get("reduce_only", False))
            o.trail_amount = int(extras.get("trail_amount", 0))
            o.trail_cbps = int(extras.get("trail_cbps", 0))
            o.hwm = int(extras.get("hwm", 0))
            o.order_class = str(extras.get("order_class", SIMPLE))
            o.leg = str(extras.get("leg", ""))
            o.parent_order_id = str(extras.get("parent_order_id", ""))
            o.linked = o.reduce_only or o.order_class != SIMPLE
        return o


def group_key(o: RestingOrder) -> str:
    """The id that names a contingent order's group: its root's (the entry, or an OCO's
    take-profit), which is the order's parent or the order itself."""
    return o.parent_order_id or o.order_id


def link_group(groups: dict[str, Group], o: RestingOrder) -> None:
    """Put restored order `o` back in its group (rebuilt from the orders' rows)."""
    key = group_key(o)
    g = groups.get(key)
    if g is None:
        g = Group(o.order_class)
        groups[key] = g
    o.group = g
    set_member(g, o)


def set_member(g: Group, o: RestingOrder) -> None:
    """Make `o` its group's member for its leg (after a copy replaced the old object)."""
    if o.leg == "entry":
        g.entry = o
    elif o.leg == "take_profit":
        g.take_profit = o
    else:
        g.stop_loss = o
