"""What both markets of an instrument do alike: the matching engine (a real book) and the
fill simulator (paper orders against a simulated price).

`Market.handle(command, out)` dispatches every command kind to the market's own method, and
the answers that do not depend on how a market fills are given here, once: accepting or
rejecting a new order or a whole contingent group, refusing a cancel or replace of an
unknown or another account's order, and counting an order's events (its `order_seq` and the
instrument's `seq`). The rules of contingent groups and reduce-only orders, alike in both
markets, are in `matcher.engine.contingent`.
"""

from __future__ import annotations

from matcher.engine.positions import PositionBook
from matcher.engine.working import RestingOrder
from shared.domain import reasons
from shared.domain.codes import HELD, NEW, REJECTED
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
    CancelRejected,
    Event,
    OrderAccepted,
    OrderRejected,
    ReplaceRejected,
)
from shared.domain.order_rules import request_problem


class Market:
    """One instrument's market: its symbol and its event sequence (`seq`).

    `book` holds the accounts' net positions; the instrument's venues share one and keep it
    (a bare market's stays empty). `reduce_only` lists each account's open reduce-only orders
    in this market, oldest first, and `running` those accounts' positions, fill by fill;
    `pending` the contingent legs released during the current matching step, worked when it
    ends."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.seq = 0
        self.book = PositionBook()
        self.reduce_only: dict[str, list[RestingOrder]] = {}
        self.running: dict[str, int] = {}
        self.pending: list[RestingOrder] = []
        self.last_entry = 0  # the last `entry_seq` given out (priorities are unique)

    # ----------------------------------------------------------------- commands

    def handle(self, command: Command, out: list[Event]) -> None:
        """Apply one command; append the events it caused to `out`."""
        if isinstance(command, NewOrder):
            self.new_order(command, out)
        elif isinstance(command, CancelOrder):
            self.cancel(command.order_id, command.account_id, command.ts, out)
        elif isinstance(command, ReplaceOrder):
            self.replace(command, out)
        elif isinstance(command, NewOrderGroup):
            self.new_group(command, out)
        elif isinstance(command, CancelAll):
            reason = command.reason or reasons.CANCELED_BY_CLIENT
            self.cancel_all(command.account_id, command.ts, reason, out)
        elif isinstance(command, ExpireOrders):
            self.expire(command.ts, command.end_of_day, out)
        elif isinstance(command, SetTradingState):
            self.set_trading_state(command.state, command.ts, out)
        elif isinstance(command, ConfigureInstrument):
            self.configure(command, out)
        else:
            raise TypeError(f"unknown command {type(command).__name__}")

    def process(self, commands: list[Command], out: list[Event]) -> None:
        """Apply a batch of commands in order (the matcher's unit of work)."""
        for command in commands:
            self.handle(command, out)

    def new_order(self, c: NewOrder, out: list[Event]) -> None:
        raise NotImplementedError

    def new_group(self, g: NewOrderGroup, out: list[Event]) -> None:
        raise NotImplementedError

    def cancel(self, order_id: str, account_id: str, ts: int, out: list[Event]) -> None:
        raise NotImplementedError

    def replace(self, c: ReplaceOrder, out: list[Event]) -> None:
        raise NotImplementedError

    def cancel_all(self, account_id: str, ts: int, reason: str, out: list[Event]) -> None:
        """Cancel every open order of `account_id` ("" = everyone), oldest first."""
        raise NotImplementedError

    def expire(self, ts: int, end_of_day: bool, out: list[Event]) -> None:
        """Expire GTD orders whose time has come and, at the end of the day, DAY orders."""
        raise NotImplementedError

    def set_trading_state(self, state: str, ts: int, out: list[Event]) -> None:
        raise NotImplementedError

    def configure(self, c: ConfigureInstrument, out: list[Event]) -> None:
        """New fees (and other matcher-relevant reference data) from this command on."""
        raise NotImplementedError

    def arrival(self, ts: int) -> tuple[int, int, int, int]:
        """The market an order meets at `ts` before its own matching: (best bid, best ask,
        last trade, simulator reference price) in ticks, 0 = none. Reported on OrderAccepted
        and OrderTriggered (the order's arrival price)."""
        return (0, 0, 0, 0)

    # ----------------------------------------------------------------- answers alike

    def _answer_new(
        self,
        c: NewOrder,
        reason: str,
        out: list[Event],
        held: int = 0,
        stop_price: int = -1,
        *,
        bid: int = 0,
        ask: int = 0,
        last: int = 0,
        ref: int = 0,
    ) -> bool:
        """OrderAccepted, or OrderRejected with `reason` (order_seq 1 either way); True
        when accepted. `held`: the part of a contingent leg not live yet; `stop_price`: a
        trailing stop's first stop (-1: the order's own). `bid`, `ask`, `last`, `ref`: the
        market the order arrives at (see `arrival`; the caller passes it, the engine without
        a call on its hot path)."""
        self.seq += 1
        if reason:
            out.append(
                OrderRejected(
                    self.symbol, self.seq, c.ts, c.order_id, c.account_id, 1, REJECTED, reason
                )
            )
            return False
        leaves = c.quantity - held
        out.append(
            OrderAccepted(
                self.symbol,
                self.seq,
                c.ts,
                c.order_id,
                c.account_id,
                1,
                NEW if held == 0 else HELD,
                c.side,
                c.order_type,
                c.quantity,
                c.price,
                c.stop_price if stop_price < 0 else stop_price,
                leaves,
                held,
                bid,
                ask,
                last,
                ref,
            )
        )
        return True

    def _reject_group(self, g: NewOrderGroup, at: int, reason: str, out: list[Event]) -> None:
        """Every order of the group rejected: `reason` on the one at fault, GROUP_REJECTED
        on the others."""
        for i, c in enumerate(g.orders):
            self._answer_new(c, reason if i == at else reasons.GROUP_REJECTED, out)

    def _cancel_target(
        self, o: RestingOrder | None, order_id: str, account_id: str, ts: int, out: list[Event]
    ) -> RestingOrder | None:
        """`o` when a cancel from `account_id` may act on it; else None, and CancelRejected
        is out (no order's sequence moves: order_seq 0)."""
        reason = request_problem(None if o is None else o.account_id, account_id)
        if not reason:
            return o
        self.seq += 1
        out.append(CancelRejected(self.symbol, self.seq, ts, order_id, account_id, 0, "", reason))
        return None

    def _replace_target(
        self, o: RestingOrder | None, c: ReplaceOrder, out: list[Event]
    ) -> RestingOrder | None:
        """`o` when replace `c` may act on it; else None, and ReplaceRejected is out."""
        reason = request_problem(None if o is None else o.account_id, c.account_id)
        if not reason:
            return o
        self.seq += 1
        out.append(
            ReplaceRejected(self.symbol, self.seq, c.ts, c.order_id, c.account_id, 0, "", reason)
        )
        return None

    def _next_event(self, o: RestingOrder) -> int:
        """Count one more event of working order `o` (its order_seq and the instrument's
        seq move on); returns the event's seq."""
        o.order_seq += 1
        self.seq += 1
        return self.seq

    def _next_entry(self) -> int:
        """The priority of an order entering the book, the stops or the held legs: the
        instrument's seq, made unique when several enter after the same event."""
        entry = self.seq if self.seq > self.last_entry else self.last_entry + 1
        self.last_entry = entry
        return entry
