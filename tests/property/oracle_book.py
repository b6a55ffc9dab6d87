"""The oracle's mechanics: where orders go, how they end, restatements, contingent groups,
reduce-only, stops and matching, each a linear scan over one plain list (see oracle.py)."""

from __future__ import annotations

import copy

from shared.domain.order_rules import trailing_stop_price
from tests.property.oracle_orders import Norm, OGroup, OOrder

OPEN = ("book", "parked", "held")


class OracleBook:
    def __init__(self, maker_fee: int = 0, taker_fee: int = 0) -> None:
        self.orders: list[OOrder] = []  # every order not done, wherever it is
        self.pending: list[OOrder] = []
        self.positions: dict[str, int] = {}
        self.last = 0
        self.halted = False
        self.counter = 0
        self.accepts = 0
        self.now = 0
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.out: list[Norm] = []
        self.fees: list[tuple[int, int]] = []  # (maker fee, taker fee) of each trade

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def live(self, order_id: str) -> OOrder | None:
        for o in self.orders:
            if o.id == order_id and o.place in OPEN:
                return o
        return None

    # ------------------------------------------------------------------ places

    def rest(self, o: OOrder) -> None:
        o.place = "book"
        o.prio = self._next()
        if o.display:
            o.shown = min(o.display, o.leaves)

    def park(self, o: OOrder) -> None:
        o.place = "parked"
        o.prio = self._next()

    def to_held(self, o: OOrder) -> None:
        if o.place == "pending":
            self.pending.remove(o)
        o.place = "held"
        o.prio = self._next()
        o.shown = 0
        o.was_triggered = False
        if o.trailing:
            o.hwm = 0

    def filled_out(self, o: OOrder) -> None:
        if o.held:
            self.to_held(o)
        else:
            o.place = "done"
            self.orders.remove(o)

    def end(self, o: OOrder, kind: str, reason: str, cascade: bool = True) -> None:
        canceled = o.open
        if o.place == "pending":
            self.pending.remove(o)
        o.place = "done"
        o.leaves = o.held = o.shown = 0
        self.orders.remove(o)
        self.out.append((kind, o.id, canceled, reason))
        if o.group is not None and cascade:
            self.after_end(o, reason, kind == "expire")

    def after_end(self, o: OOrder, reason: str, expired: bool) -> None:
        g = o.group
        assert g is not None
        if o.leg == "entry":
            self.sync_legs(g, 0)
            return
        if reason != "CANCELED_BY_CLIENT" and not expired:
            return
        other = g.other_exit(o)
        if other is not None:
            if expired:
                self.end(other, "expire", reason)
            else:
                self.end(other, "cancel", "GROUP_CANCELED")
        entry = g.live_entry()
        if entry is not None:
            self.end(entry, "cancel", "GROUP_CANCELED")

    # ------------------------------------------------------------------ restatements

    def restated(self, o: OOrder, reason: str, canceled: int) -> None:
        self.out.append(("restated", o.id, reason, o.leaves, o.held, canceled, o.qty))

    def reduce(self, o: OOrder, qty: int, reason: str) -> None:
        live = min(qty, o.leaves)
        held = qty - live
        if o.leaves == live and o.held == held:
            self.end(o, "cancel", reason)
            return
        o.leaves -= live
        o.shown = min(o.shown, o.leaves)
        if o.leaves == 0 and live:
            self.to_held(o)
        o.held -= held
        self.restated(o, reason, qty)
        if o.leg == "entry" and o.group is not None:
            self.sync_legs(o.group, o.leaves)

    def cut_held(self, o: OOrder, qty: int, reason: str) -> None:
        if o.leaves == 0 and o.held == qty:
            self.end(o, "cancel", reason)
            return
        o.held -= qty
        self.restated(o, reason, qty)

    def sync_legs(self, g: OGroup, entry_open: int) -> None:
        for leg in g.exits():
            if leg.held > entry_open:
                self.cut_held(leg, leg.held - entry_open, "PARENT_CANCELED")

    def legs_follow(self, o: OOrder, delta: int) -> None:
        g = o.group
        if g is None or o.leg != "entry" or delta == 0:
            return
        for leg in g.exits():
            held = max(0, leg.held + delta)
            change = held - leg.held
            if change == 0:
                continue
            if leg.leaves == 0 and held == 0:
                self.end(leg, "cancel", "PARENT_REPLACED")
                continue
            leg.held = held
            leg.qty += change
            self.restated(leg, "PARENT_REPLACED", 0)

    def group_fill(self, o: OOrder, qty: int) -> None:
        g = o.group
        assert g is not None
        if o.leg == "entry":
            for leg in g.exits():
                if leg.held > 0:
                    release = min(qty, leg.held)
                    if leg.place != "pending":
                        leg.was_triggered = leg.place == "book" and leg.waits
                        leg.place = "pending"
                        leg.shown = 0
                        self.pending.append(leg)
                    leg.held -= release
                    leg.leaves += release
                    self.restated(leg, "LEG_RELEASED", 0)
            if o.place == "done" or o.open == 0:
                self.sync_legs(g, 0)
            return
        other = g.other_exit(o)
        if other is not None:
            self.reduce(other, min(qty, other.open), "OCO_SIBLING_FILLED")

    # ------------------------------------------------------------------ reduce-only

    def reduce_only_refusal(self, account: str, buy: bool, qty: int) -> str:
        net = self.positions.get(account, 0)
        open_qty = sum(
            o.open for o in self.orders if o.reduce_only and o.acct == account and o.buy == buy
        )
        reduces = net < 0 if buy else net > 0
        return "" if reduces and qty + open_qty <= abs(net) else "REDUCE_ONLY_WOULD_INCREASE"

    def trim(self, account: str) -> None:
        mine = [o for o in self.orders if o.reduce_only and o.acct == account]
        if not mine:
            return
        mine.sort(key=lambda o: o.accept)
        net = self.positions.get(account, 0)
        sells = sum(o.open for o in mine if not o.buy) - max(net, 0)
        buys = sum(o.open for o in mine if o.buy) - max(-net, 0)
        for o in reversed(mine):
            excess = buys if o.buy else sells
            if excess <= 0:
                continue
            cut = min(excess, o.open)
            if o.buy:
                buys -= cut
            else:
                sells -= cut
            self.reduce(o, cut, "REDUCE_ONLY_TRIMMED")

    # ------------------------------------------------------------------ stops

    def reached(self, o: OOrder) -> bool:
        if self.last == 0 or o.stop == 0:
            return False
        return self.last >= o.stop if o.buy else self.last <= o.stop

    def trigger(self, o: OOrder) -> None:
        self.out.append(("triggered", o.id))
        self.work(o)

    def settle(self) -> None:
        while True:
            if self.pending:
                self.work_released(self.pending.pop(0))
                continue
            parked = [o for o in self.orders if o.place == "parked" and self.reached(o)]
            buys = [o for o in parked if o.buy]
            sells = [o for o in parked if not o.buy]
            if buys:
                self.trigger(min(buys, key=lambda o: (o.stop, o.prio)))
            elif sells:
                self.trigger(min(sells, key=lambda o: (-o.stop, o.prio)))
            else:
                return

    def work_released(self, o: OOrder) -> None:
        o.place = "hand"
        if o.was_triggered or not o.waits:
            o.was_triggered = False
            self.work(o)
            return
        if o.trailing and o.hwm == 0:
            before = o.stop
            o.hwm = self.last
            o.stop = trailing_stop_price(o.buy, self.last, o.trail_amount, o.trail_cbps)
            if o.stop != before:
                self.out.append(("moved", o.id, o.stop, o.hwm))
        if self.reached(o):
            self.trigger(o)
        else:
            self.park(o)

    def follow(self, high: int, low: int) -> None:
        trailing = [o for o in self.orders if o.place == "parked" and o.trailing]
        for o in sorted(trailing, key=lambda o: o.prio):
            if o.buy:
                if o.hwm != 0 and low >= o.hwm:
                    continue
                o.hwm = low
            else:
                if high <= o.hwm:
                    continue
                o.hwm = high
            stop = trailing_stop_price(o.buy, o.hwm, o.trail_amount, o.trail_cbps)
            if stop != o.stop:
                o.stop = stop
                self.out.append(("moved", o.id, stop, o.hwm))

    # ------------------------------------------------------------------ matching

    def would_take(self, buy: bool, price: int) -> bool:
        return any(
            m.place == "book" and m.buy != buy and (m.px <= price if buy else m.px >= price)
            for m in self.orders
        )

    def best(self, t: OOrder) -> OOrder | None:
        cands = [
            m
            for m in self.orders
            if m.place == "book"
            and m.buy != t.buy
            and (t.market or (m.px <= t.px if t.buy else m.px >= t.px))
        ]
        if not cands:
            return None
        if t.buy:
            return min(cands, key=lambda m: (m.px, m.prio))
        return min(cands, key=lambda m: (-m.px, m.prio))

    def fok_fills(self, t: OOrder) -> bool:
        """Would the whole taker fill now? Play the step on a copy and look."""
        memo: dict[int, object] = {}
        twin = copy.deepcopy(self, memo)
        tt = memo[id(t)]
        assert isinstance(tt, OOrder)
        want, cum = tt.leaves, tt.cum
        twin.match(tt, [])
        return tt.cum - cum == want

    def work(self, t: OOrder) -> None:
        """One taker's matching step, then its remainder and the step's aftermath."""
        t.place = "hand"
        if t.tif == "fok" and not self.fok_fills(t):
            self.reduce(t, t.leaves, "FOK_NOT_FILLABLE")
            return
        prices: list[int] = []
        not_prevented = self.match(t, prices)
        if t.place == "hand":
            if not not_prevented:
                self.reduce(t, t.leaves, "SELF_TRADE_PREVENTED")
            elif t.leaves == 0:
                self.filled_out(t)
            elif t.market:
                self.reduce(t, t.leaves, "IOC_REMAINDER" if t.cum else "MARKET_NO_LIQUIDITY")
            elif t.tif in ("ioc", "fok"):
                self.reduce(t, t.leaves, "IOC_REMAINDER")
            else:
                self.rest(t)
        if prices:
            self.trim(t.acct)
            self.follow(max(prices), min(prices))

    def match(self, t: OOrder, prices: list[int]) -> bool:
        """Fill taker `t` against the best makers. False: STP canceled it."""
        while t.leaves > 0:
            m = self.best(t)
            if m is None:
                return True
            if m.tif == "gtd" and m.expire <= self.now:  # expires on contact, never trades
                self.end(m, "expire", "EXPIRED_GTD")
                continue
            if m.acct == t.acct:
                if t.stp == "decrement":
                    if not self.decrement(m, t):
                        return False
                    continue
                if t.stp != "cancel_newest":
                    self.reduce(m, m.leaves, "SELF_TRADE_PREVENTED")
                if t.stp != "cancel_oldest":
                    return False
                continue
            q = min(t.leaves, m.shown if m.display else m.leaves)
            m.leaves -= q
            m.cum += q
            t.leaves -= q
            t.cum += q
            self.out.append(("fill", m.id, t.id, q, m.px))
            self.fees.append((q * m.px * self.maker_fee, q * m.px * self.taker_fee))
            prices.append(m.px)
            self.last = m.px
            for o in (m, t):
                self.positions[o.acct] = self.positions.get(o.acct, 0) + (q if o.buy else -q)
            if m.leaves == 0:
                self.filled_out(m)
            elif m.display:
                m.shown -= q
                if m.shown == 0:  # the next slice waits at the back of the queue
                    m.shown = min(m.display, m.leaves)
                    m.prio = self._next()
            if m.group is not None:
                self.group_fill(m, q)
            if t.group is not None:
                self.group_fill(t, q)
            self.trim(m.acct)
        return True

    def decrement(self, m: OOrder, t: OOrder) -> bool:
        resting, taking = m.leaves, t.leaves
        if taking < resting:
            self.reduce(m, taking, "SELF_TRADE_DECREMENTED")
            return False
        self.reduce(m, resting, "SELF_TRADE_PREVENTED")
        if taking == resting:
            return False
        self.reduce(t, resting, "SELF_TRADE_DECREMENTED")
        return True
