"""A deliberately simple, obviously correct book: the test oracle for the fast engine.

Everything is a linear scan over plain lists. It speaks the same commands and reports a
normalized event stream (tuples) that the engine's events are compared against.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.commands import (
    CancelAll,
    CancelOrder,
    Command,
    ExpireOrders,
    NewOrder,
    ReplaceOrder,
    SetTradingState,
)

Norm = tuple[object, ...]


@dataclass
class OOrder:
    id: str
    acct: str
    buy: bool
    type: str
    tif: str
    qty: int
    px: int
    stop: int
    expire: int
    stp: str
    leaves: int
    cum: int = 0
    prio: int = 0
    accept: int = 0

    @property
    def market(self) -> bool:
        return self.type in ("market", "stop")


class Oracle:
    def __init__(self) -> None:
        self.book: list[OOrder] = []
        self.parked: list[OOrder] = []
        self.last = 0
        self.halted = False
        self.counter = 0
        self.now = 0
        self.out: list[Norm] = []

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def live(self, order_id: str) -> OOrder | None:
        for o in self.book + self.parked:
            if o.id == order_id:
                return o
        return None

    # ------------------------------------------------------------------ commands

    def handle(self, c: Command) -> None:
        self.now = c.ts
        if isinstance(c, NewOrder):
            self.new(c)
        elif isinstance(c, CancelOrder):
            o = self.live(c.order_id)
            if o is None or o.acct != c.account_id:
                self.out.append(("cancel_rejected", c.order_id))
            else:
                self.remove(o, "cancel", "CANCELED_BY_CLIENT")
        elif isinstance(c, ReplaceOrder):
            self.replace(c)
        elif isinstance(c, CancelAll):
            for o in sorted(self.book + self.parked, key=lambda o: o.prio):
                if not c.account_id or o.acct == c.account_id:
                    self.remove(o, "cancel", c.reason or "CANCELED_BY_CLIENT")
        elif isinstance(c, ExpireOrders):
            gtd = [o for o in self.book + self.parked if o.tif == "gtd" and o.expire <= c.ts]
            for o in sorted(gtd, key=lambda o: (o.expire, o.accept)):
                self.remove(o, "expire", "EXPIRED_GTD")
            if c.end_of_day:
                for o in sorted(self.book + self.parked, key=lambda o: o.prio):
                    if o.tif == "day":
                        self.remove(o, "expire", "EXPIRED_DAY")
        elif isinstance(c, SetTradingState):
            self.halted = c.state == "halted"
            self.out.append(("state", c.state))
            if self.halted:
                for o in sorted(self.book + self.parked, key=lambda o: o.prio):
                    self.remove(o, "cancel", "CANCELED_BY_HALT")

    def new(self, c: NewOrder) -> None:
        if self.halted:
            self.out.append(("rejected", c.order_id, "INSTRUMENT_HALTED"))
            return
        if self.live(c.order_id) is not None:
            self.out.append(("rejected", c.order_id, "DUPLICATE_ORDER_ID"))
            return
        o = OOrder(
            c.order_id,
            c.account_id,
            c.side == "buy",
            c.order_type,
            c.time_in_force,
            c.quantity,
            c.price,
            c.stop_price,
            c.expire_at,
            c.stp,
            c.quantity,
            accept=self._next(),
        )
        self.out.append(("accepted", o.id))
        if o.type in ("stop", "stop_limit"):
            if self.stop_reached(o):
                self.trigger(o)
            else:
                o.prio = self._next()
                self.parked.append(o)
                return
        else:
            self.work(o)
        self.cascade()

    def replace(self, c: ReplaceOrder) -> None:
        o = self.live(c.order_id)
        if o is None or o.acct != c.account_id:
            self.out.append(("replace_rejected", c.order_id))
            return
        parked = o in self.parked
        qty = c.quantity or o.qty
        px = c.price or o.px
        stop = c.stop_price or o.stop
        if qty <= o.cum:
            self.out.append(("replace_rejected", o.id, "REPLACE_QTY_AT_OR_BELOW_FILLED"))
            return
        if (c.price and o.type not in ("limit", "stop_limit")) or (c.stop_price and not parked):
            self.out.append(("replace_rejected", o.id, "REPLACE_INVALID"))
            return
        kept = px == o.px and stop == o.stop and qty <= o.qty and not parked
        o.qty, o.px, o.stop, o.leaves = qty, px, stop, qty - o.cum
        self.out.append(("replaced", o.id, qty, px, stop, o.leaves, kept))
        if kept:
            return
        (self.parked if parked else self.book).remove(o)
        if parked:
            if self.stop_reached(o):
                self.trigger(o)
            else:
                o.prio = self._next()
                self.parked.append(o)
        else:
            self.work(o)
        self.cascade()

    # ------------------------------------------------------------------ mechanics

    def remove(self, o: OOrder, kind: str, reason: str) -> None:
        (self.parked if o in self.parked else self.book).remove(o)
        self.out.append((kind, o.id, o.leaves, reason))
        o.leaves = 0

    def stop_reached(self, o: OOrder) -> bool:
        if self.last == 0:
            return False
        return self.last >= o.stop if o.buy else self.last <= o.stop

    def trigger(self, o: OOrder) -> None:
        self.out.append(("triggered", o.id))
        self.work(o)

    def cascade(self) -> None:
        while True:
            buys = [o for o in self.parked if o.buy and self.stop_reached(o)]
            sells = [o for o in self.parked if not o.buy and self.stop_reached(o)]
            if buys:
                o = min(buys, key=lambda o: (o.stop, o.prio))
            elif sells:
                o = min(sells, key=lambda o: (-o.stop, o.prio))
            else:
                return
            self.parked.remove(o)
            self.trigger(o)

    def crosses(self, t: OOrder, m: OOrder) -> bool:
        if t.market:
            return True
        return m.px <= t.px if t.buy else m.px >= t.px

    def best(self, t: OOrder) -> OOrder | None:
        cands = [m for m in self.book if m.buy != t.buy and self.crosses(t, m)]
        if not cands:
            return None
        if t.buy:
            return min(cands, key=lambda m: (m.px, m.prio))
        return min(cands, key=lambda m: (-m.px, m.prio))

    def expired(self, m: OOrder) -> bool:
        return m.tif == "gtd" and m.expire <= self.now

    def fillable(self, t: OOrder) -> int:
        cands = [
            m for m in self.book if m.buy != t.buy and self.crosses(t, m) and not self.expired(m)
        ]
        cands.sort(key=(lambda m: (m.px, m.prio)) if t.buy else (lambda m: (-m.px, m.prio)))
        total = 0
        for m in cands:
            if m.acct == t.acct:
                if t.stp != "cancel_oldest":
                    return total
                continue
            total += m.leaves
        return total

    def work(self, t: OOrder) -> None:
        if t.tif == "fok" and self.fillable(t) < t.leaves:
            self.out.append(("cancel", t.id, t.leaves, "FOK_NOT_FILLABLE"))
            t.leaves = 0
            return
        while t.leaves:
            m = self.best(t)
            if m is None:
                break
            if self.expired(m):  # an expired GTD order expires on contact, never trades
                self.remove(m, "expire", "EXPIRED_GTD")
                continue
            if m.acct == t.acct:
                if t.stp != "cancel_newest":
                    self.remove(m, "cancel", "SELF_TRADE_PREVENTED")
                if t.stp != "cancel_oldest":
                    self.out.append(("cancel", t.id, t.leaves, "SELF_TRADE_PREVENTED"))
                    t.leaves = 0
                    return
                continue
            q = min(t.leaves, m.leaves)
            t.leaves -= q
            t.cum += q
            m.leaves -= q
            m.cum += q
            self.last = m.px
            self.out.append(("fill", m.id, t.id, q, m.px))
            if m.leaves == 0:
                self.book.remove(m)
        if not t.leaves:
            return
        if t.market:
            reason = "IOC_REMAINDER" if t.cum else "MARKET_NO_LIQUIDITY"
            self.out.append(("cancel", t.id, t.leaves, reason))
            t.leaves = 0
        elif t.tif in ("ioc", "fok"):
            self.out.append(("cancel", t.id, t.leaves, "IOC_REMAINDER"))
            t.leaves = 0
        else:
            t.prio = self._next()
            self.book.append(t)
