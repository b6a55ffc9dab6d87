"""A small trading desk over one instrument's venues, for tests that read like a trader's
story: place orders and groups, cancel, replace, tick the clock, and look at the events."""

from __future__ import annotations

from itertools import count
from typing import Any

from matcher.engine.simulator import SimulatorConfig
from matcher.engine.venues import InstrumentVenues
from shared.domain.commands import (
    CancelAll,
    CancelOrder,
    Command,
    ConfigureInstrument,
    ExpireOrders,
    NewOrder,
    NewOrderGroup,
    ReplaceOrder,
    SetTradingState,
)
from shared.domain.events import (
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderRestated,
    TrailingStopMoved,
)

SYMBOL = "XYZ"


class Desk:
    """One instrument's venues, a clock, and helpers returning each command's events."""

    def __init__(
        self, maker: int = 0, taker: int = 0, simulator: SimulatorConfig | None = None
    ) -> None:
        self.venues = InstrumentVenues(SYMBOL, maker, taker, simulator=simulator)
        self.ts = 1_000
        self.ids = count(1)
        self.log: list[Event] = []

    def run(self, command: Command) -> list[Any]:
        out: list[Event] = []
        self.venues.handle(command, out)
        self.log.extend(out)
        return out

    def tick(self, step: int = 1) -> int:
        self.ts += step
        return self.ts

    def new(self, order_id: str, side: str, qty: int, **kw: Any) -> NewOrder:
        """A NewOrder (not sent): kind/price/stop/tif/account/stp/venue and the newer fields."""
        kind = kw.pop("kind", "limit")
        return NewOrder(
            f"c{next(self.ids)}",
            kw.pop("ts", self.ts),
            SYMBOL,
            order_id,
            kw.pop("account", f"acct-{order_id}"),
            side,
            kind,
            kw.pop("tif", "gtc"),
            qty,
            kw.pop("price", 0),
            kw.pop("stop", 0),
            kw.pop("expire_at", 0),
            kw.pop("stp", "cancel_newest"),
            kw.pop("venue", "internal"),
            **kw,
        )

    def order(self, order_id: str, side: str, qty: int, **kw: Any) -> list[Any]:
        self.tick()
        return self.run(self.new(order_id, side, qty, **kw))

    def bracket(
        self,
        entry: str,
        side: str,
        qty: int,
        take_profit: int,
        stop_loss: int,
        account: str = "trader",
        order_class: str = "bracket",
        stop_kind: str = "stop",
        **entry_kw: Any,
    ) -> list[Any]:
        """A bracket (or OTO with `take_profit` or `stop_loss` 0) around entry `entry`; the
        legs are `<entry>-tp` / `<entry>-sl`. `stop_kind` trailing_stop: `stop_loss` is the
        trail in ticks."""
        self.tick()
        exit_side = "sell" if side == "buy" else "buy"
        venue = entry_kw.get("venue", "internal")
        orders = [
            self.new(
                entry, side, qty, account=account, order_class=order_class, leg="entry", **entry_kw
            )
        ]
        common = {"account": account, "order_class": order_class, "parent_order_id": entry}
        common["venue"] = venue
        if take_profit:
            orders.append(
                self.new(
                    f"{entry}-tp", exit_side, qty, price=take_profit, leg="take_profit", **common
                )
            )
        if stop_loss:
            orders.append(
                self._stop_loss(f"{entry}-sl", exit_side, qty, stop_loss, stop_kind, common)
            )
        return self.run(
            NewOrderGroup(f"g{next(self.ids)}", self.ts, SYMBOL, order_class, tuple(orders))
        )

    def oco(
        self,
        name: str,
        side: str,
        qty: int,
        take_profit: int,
        stop_loss: int,
        account: str = "trader",
        stop_kind: str = "stop",
        venue: str = "internal",
    ) -> list[Any]:
        """An OCO exit pair `<name>-tp` (the parent) and `<name>-sl`."""
        self.tick()
        tp = self.new(
            f"{name}-tp",
            side,
            qty,
            price=take_profit,
            account=account,
            order_class="oco",
            leg="take_profit",
            venue=venue,
        )
        common = {"account": account, "order_class": "oco", "parent_order_id": tp.order_id}
        common["venue"] = venue
        sl = self._stop_loss(f"{name}-sl", side, qty, stop_loss, stop_kind, common)
        return self.run(NewOrderGroup(f"g{next(self.ids)}", self.ts, SYMBOL, "oco", (tp, sl)))

    def _stop_loss(
        self, order_id: str, side: str, qty: int, stop: int, kind: str, common: dict[str, Any]
    ) -> NewOrder:
        if kind == "trailing_stop":
            return self.new(
                order_id, side, qty, kind=kind, trail_amount=stop, leg="stop_loss", **common
            )
        return self.new(order_id, side, qty, kind=kind, stop=stop, leg="stop_loss", **common)

    def cancel(self, order_id: str, account: str) -> list[Any]:
        return self.run(CancelOrder(f"x{next(self.ids)}", self.tick(), SYMBOL, order_id, account))

    def replace(self, order_id: str, account: str, **kw: Any) -> list[Any]:
        return self.run(
            ReplaceOrder(f"r{next(self.ids)}", self.tick(), SYMBOL, order_id, account, **kw)
        )

    def expire(self, ts: int | None = None, end_of_day: bool = False) -> list[Any]:
        self.ts = ts if ts is not None else self.ts + 1
        return self.run(ExpireOrders(f"e{next(self.ids)}", self.ts, SYMBOL, end_of_day))

    def cancel_all(self, account: str = "") -> list[Any]:
        return self.run(CancelAll(f"k{next(self.ids)}", self.tick(), SYMBOL, account))

    def halt(self, state: str = "halted") -> list[Any]:
        return self.run(SetTradingState(f"s{next(self.ids)}", self.tick(), SYMBOL, state))

    def configure(self, maker: int, taker: int) -> list[Any]:
        return self.run(
            ConfigureInstrument(f"f{next(self.ids)}", self.tick(), SYMBOL, maker, taker)
        )

    def trade(self, price: int, qty: int = 1) -> list[Any]:
        """Print a trade at `price` between two bystanders (sets the last trade price)."""
        n = next(self.ids)
        self.order(f"bystander-ask-{n}", "sell", qty, price=price, account=f"by-a{n}")
        return self.order(f"bystander-bid-{n}", "buy", qty, price=price, account=f"by-b{n}")


def fills(events: list[Any]) -> list[tuple[str, int, int]]:
    return [(e.order_id, e.last_qty, e.last_px) for e in events if isinstance(e, OrderFilled)]


def restated(events: list[Any]) -> list[tuple[str, str, int, int, int]]:
    """(order, reason, leaves, held, canceled) of each OrderRestated."""
    return [
        (e.order_id, e.reason, e.leaves_qty, e.held_qty, e.canceled_qty)
        for e in events
        if isinstance(e, OrderRestated)
    ]


def ended(events: list[Any]) -> list[tuple[str, str, int]]:
    """(order, reason, canceled) of each OrderCanceled / OrderExpired."""
    return [
        (e.order_id, e.reason, e.canceled_qty)
        for e in events
        if isinstance(e, (OrderCanceled, OrderExpired))
    ]


def rejected(events: list[Any]) -> list[tuple[str, str]]:
    return [(e.order_id, e.reason) for e in events if isinstance(e, OrderRejected)]


def accepted(events: list[Any]) -> list[tuple[str, str, int, int]]:
    """(order, status, leaves, held) of each OrderAccepted."""
    return [
        (e.order_id, e.status, e.leaves_qty, e.held_qty)
        for e in events
        if isinstance(e, OrderAccepted)
    ]


def moved(events: list[Any]) -> list[tuple[str, int, int]]:
    return [
        (e.order_id, e.stop_price, e.high_water_mark)
        for e in events
        if isinstance(e, TrailingStopMoved)
    ]


def kinds(events: list[Any]) -> list[tuple[str, str]]:
    """(event kind, order id) of every order event, in order."""
    return [(e.KIND, getattr(e, "order_id", "")) for e in events]


def replaced(events: list[Any]) -> list[OrderReplaced]:
    return [e for e in events if isinstance(e, OrderReplaced)]
