"""Shadow mode: internal orders also run, unseen by the book, on a fill simulator.

An order placed with `NewOrder.shadow` works in the matching engine as any other; a copy of
it works on `ShadowMarket`, a fill simulator of its own that shares the paper market's
configuration and reference price (the same walk or price file, the same anchor) but
nothing else: its copies never meet the book, the paper orders or each other's fills.
Its fills and ends come out as ShadowFilled / ShadowClosed, which take the instrument's
next sequence numbers like every event, so the journal holds them and a replay gives them
again. Cancels and replaces of the order apply to its copy too; every command lets the
copies meet the market as it is at the command's time first.
"""

from __future__ import annotations

from typing import final

from matcher.engine.simulator import FillSimulator
from shared.domain.commands import (
    CancelAll,
    CancelOrder,
    Command,
    ExpireOrders,
    NewOrder,
    NewOrderGroup,
    ReplaceOrder,
    SetTradingState,
)
from shared.domain.events import (
    Event,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    ShadowClosed,
    ShadowFilled,
)


@final
class ShadowMarket:
    """The shadow copies of one instrument's internal orders."""

    def __init__(self, paper: FillSimulator) -> None:
        self.paper = paper
        self.sim = FillSimulator(paper.symbol, paper.config)
        self._link()

    def _link(self) -> None:
        """The copies see the paper market's configuration, reference walk (its anchor
        too) and the accounts' positions (reduce-only copies), as they are now."""
        sim, paper = self.sim, self.paper
        sim.config = paper.config
        sim.walk = paper.walk
        sim.book = paper.book

    @property
    def busy(self) -> bool:
        return bool(self.sim.orders)

    def place(self, c: NewOrder | NewOrderGroup, seq: int, out: list[Event]) -> int:
        """A copy of new order (or contingent group) `c`, which the real market accepted;
        returns the instrument's sequence after the shadow events appended to `out`."""
        return self._run(c, seq, out)

    def handle(self, command: Command, seq: int, out: list[Event]) -> int:
        """Let the copies meet `command` (after the real market did): a cancel or replace
        of a copied order, a cancel-all, expiry or trading state apply to the copies, any
        other command only moves their time on."""
        if isinstance(command, (CancelOrder, ReplaceOrder)):
            applies = command.order_id in self.sim.orders
        else:
            applies = isinstance(command, (CancelAll, ExpireOrders, SetTradingState))
        if applies and self.sim.orders:
            return self._run(command, seq, out)
        return self.advance(command.ts, seq, out)

    def _run(self, command: Command, seq: int, out: list[Event]) -> int:
        self._link()
        events: list[Event] = []
        self.sim.handle(command, events)
        return self._report(events, seq, out)

    def advance(self, ts: int, seq: int, out: list[Event]) -> int:
        """Let the copies meet the market as it is at `ts`."""
        sim = self.sim
        if not sim.orders:
            return seq
        self._link()
        events: list[Event] = []
        sim.advance(ts, events)
        return self._report(events, seq, out)

    def _report(self, events: list[Event], seq: int, out: list[Event]) -> int:
        for e in events:
            if isinstance(e, OrderFilled):
                seq += 1
                out.append(
                    ShadowFilled(
                        e.symbol,
                        seq,
                        e.ts,
                        e.order_id,
                        e.account_id,
                        e.last_qty,
                        e.last_px,
                        e.cum_qty,
                        e.leaves_qty,
                        e.fee,
                    )
                )
            elif isinstance(e, (OrderCanceled, OrderExpired)):
                seq += 1
                out.append(
                    ShadowClosed(
                        e.symbol,
                        seq,
                        e.ts,
                        e.order_id,
                        e.account_id,
                        e.cum_qty,
                        e.canceled_qty,
                        e.reason,
                    )
                )
        return seq

    def snapshot(self) -> dict[str, object]:
        return self.sim.snapshot()

    @staticmethod
    def restore(paper: FillSimulator, data: dict[str, object]) -> ShadowMarket:
        market = ShadowMarket(paper)
        market.sim = FillSimulator.restore(paper.symbol, 0, data)
        market._link()
        return market
