"""A deliberately simple, obviously correct model of the venue: the test oracle for the fast
engine.

Everything is a linear scan over one plain list of open orders (no price levels, no queues,
no stop lists): the best maker is the minimum of a list comprehension, a fill-or-kill check
runs the step on a deep copy and throws it away, positions are a dict updated at every fill.
It speaks the same commands and reports a normalized event stream (tuples) that the
engine's events are compared against. Validation of a single order and of a group's shape
uses the shared order rules (`shared.domain.order_rules`); everything that depends on the
book, the clock or other orders is modeled here from the published rules.
"""

from __future__ import annotations

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
from shared.domain.order_rules import (
    group_problem,
    new_order_problem,
    trail_problem,
    trailing_stop_price,
)
from tests.property.oracle_book import OPEN, OracleBook
from tests.property.oracle_orders import OGroup, OOrder


class Oracle(OracleBook):
    """The venue's commands, on top of the mechanics (`OracleBook`)."""

    # ------------------------------------------------------------------ commands

    def handle(self, c: Command) -> None:
        self.now = c.ts
        if isinstance(c, NewOrder):
            self.new(c)
        elif isinstance(c, NewOrderGroup):
            self.new_group(c)
        elif isinstance(c, CancelOrder):
            o = self.live(c.order_id)
            if o is None or o.acct != c.account_id:
                self.out.append(("cancel_rejected", c.order_id))
            else:
                self.end(o, "cancel", "CANCELED_BY_CLIENT")
        elif isinstance(c, ReplaceOrder):
            self.replace(c)
        elif isinstance(c, CancelAll):
            self.cancel_all(c.account_id, c.reason or "CANCELED_BY_CLIENT")
        elif isinstance(c, ExpireOrders):
            self.expire(c.end_of_day)
        elif isinstance(c, SetTradingState):
            self.halted = c.state == "halted"
            self.out.append(("state", c.state))
            if self.halted:
                self.cancel_all("", "CANCELED_BY_HALT")
        elif isinstance(c, ConfigureInstrument):
            self.maker_fee, self.taker_fee = c.maker_fee_cbps, c.taker_fee_cbps
            self.out.append(("configured", c.maker_fee_cbps, c.taker_fee_cbps))

    def _order(self, c: NewOrder, held: int) -> OOrder:
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
            c.quantity - held,
            held=held,
            display=c.display_qty,
            post_only=c.post_only,
            reduce_only=c.reduce_only,
            trail_amount=c.trail_amount,
            trail_cbps=c.trail_cbps,
            leg=c.leg,
        )
        if o.trailing and held == 0:
            o.hwm = self.last
            o.stop = trailing_stop_price(o.buy, self.last, o.trail_amount, o.trail_cbps)
        self.accepts += 1
        o.accept = self.accepts
        self.out.append(("accepted", o.id, o.leaves, o.held, o.stop))
        self.orders.append(o)
        if held:
            o.place = "held"
            o.prio = self._next()
        return o

    def new(self, c: NewOrder) -> None:
        reason = new_order_problem(c, self.halted, self.live(c.order_id) is not None)
        if not reason and c.post_only and self.would_take(c.side == "buy", c.price):
            reason = "POST_ONLY_WOULD_TAKE"
        elif not reason and c.reduce_only:
            reason = self.reduce_only_refusal(c.account_id, c.side == "buy", c.quantity)
        if reason:
            self.out.append(("rejected", c.order_id, reason))
            return
        o = self._order(c, 0)
        if o.waits:
            if self.reached(o):
                self.trigger(o)
            else:
                self.park(o)
                return
        else:
            self.work(o)
        self.settle()

    def new_group(self, g: NewOrderGroup) -> None:
        if not g.orders:
            return
        at, reason = -1, ""
        for i, c in enumerate(g.orders):
            reason = new_order_problem(c, self.halted, self.live(c.order_id) is not None, True)
            if reason:
                at = i
                break
        if not reason:
            at, reason = group_problem(g)
        entry = g.orders[0]
        if not reason and entry.post_only and self.would_take(entry.side == "buy", entry.price):
            at, reason = 0, "POST_ONLY_WOULD_TAKE"
        if reason:
            for i, c in enumerate(g.orders):
                self.out.append(("rejected", c.order_id, reason if i == at else "GROUP_REJECTED"))
            return
        group = OGroup(g.order_class)
        members = []
        for c in g.orders:
            held = c.quantity if c.leg != "entry" and g.order_class != "oco" else 0
            o = self._order(c, held)
            o.group = group
            if c.leg == "entry":
                group.entry = o
            elif c.leg == "take_profit":
                group.tp = o
            else:
                group.sl = o
            members.append(o)
        for o in [m for m in members if m.held == 0]:
            if o.place == "hand" and o.leaves > 0:
                if o.waits:
                    if self.reached(o):
                        self.trigger(o)
                    else:
                        self.park(o)
                else:
                    self.work(o)
        self.settle()

    def replace(self, c: ReplaceOrder) -> None:
        o = self.live(c.order_id)
        if o is None or o.acct != c.account_id:
            self.out.append(("replace_rejected", c.order_id))
            return
        parked = o.place == "parked"
        qty = c.quantity or o.qty
        new_trail = c.trail_amount != 0 or c.trail_cbps != 0
        reason = ""
        if o.leg in ("take_profit", "stop_loss") and qty != o.qty:
            reason = "LEG_QUANTITY_FOLLOWS_ENTRY"
        elif qty <= o.done_qty:
            reason = "REPLACE_QTY_AT_OR_BELOW_FILLED"
        elif (
            (c.price and o.type not in ("limit", "stop_limit"))
            or (
                c.stop_price
                and not (o.place in ("parked", "held") and o.type in ("stop", "stop_limit"))
            )
            or (new_trail and not o.trailing)
        ):
            reason = "REPLACE_INVALID"
        elif new_trail:
            reason = trail_problem(o.type, c.trail_amount, c.trail_cbps)
        moves = c.price != 0 and c.price != o.px
        if not reason and o.post_only and moves and self.would_take(o.buy, c.price):
            reason = "POST_ONLY_WOULD_TAKE"
        if not reason and o.reduce_only and qty > o.qty:
            reason = self.reduce_only_refusal(o.acct, o.buy, qty - o.qty)
        if reason:
            self.out.append(("replace_rejected", o.id, reason))
            return
        px = c.price or o.px
        stop = c.stop_price or o.stop
        if new_trail:
            o.trail_amount, o.trail_cbps = c.trail_amount, c.trail_cbps
            stop = trailing_stop_price(o.buy, o.hwm, o.trail_amount, o.trail_cbps)
        kept = px == o.px and stop == o.stop and qty <= o.qty and not parked
        delta = qty - o.qty
        was = o.place
        if not (kept and was == "book") and was in ("book", "parked"):
            o.place = "hand"
            o.shown = 0
        o.qty, o.px, o.stop = qty, px, stop
        o.leaves += delta
        if o.display:
            o.shown = min(o.shown, o.leaves)
        self.out.append(("replaced", o.id, qty, px, stop, o.leaves, kept))
        self.legs_follow(o, delta)
        if (kept and was == "book") or was == "held":
            return
        if parked:
            if self.reached(o):
                self.trigger(o)
            else:
                self.park(o)
        else:
            self.work(o)
        self.settle()

    def cancel_all(self, account: str, reason: str) -> None:
        targets = [o for o in self.orders if o.place in OPEN and (not account or o.acct == account)]
        for o in sorted(targets, key=lambda o: o.prio):
            if o.place != "done":
                self.end(o, "cancel", reason, cascade=False)

    def expire(self, end_of_day: bool) -> None:
        gtd = [
            o for o in self.orders if o.place in OPEN and o.tif == "gtd" and o.expire <= self.now
        ]
        for o in sorted(gtd, key=lambda o: (o.expire, o.accept)):
            if o.place != "done":
                self.end(o, "expire", "EXPIRED_GTD")
        if end_of_day:
            day = [o for o in self.orders if o.place in OPEN and o.tif == "day"]
            for o in sorted(day, key=lambda o: o.prio):
                if o.place != "done":
                    self.end(o, "expire", "EXPIRED_DAY")
