"""The rules of contingent groups and reduce-only orders, alike in both markets.

A market (the engine, the fill simulator) keeps its orders its own way and tells this layer
through a few hooks: `_cut_live` (take part of an order's live part away), `_hold` (an order
whose live part is 0 keeps a held part), `_drop` (an order ended: out of every container),
`_grow_live` (a release: more of a leg goes live, to be worked when the step ends) and
`_work_released`. Here are the rules on top of them:

- an entry's fill of q releases q of each of its legs (LEG_RELEASED), right after the fill;
- an exit's fill of q reduces its OCO sibling by q, live part first (OCO_SIBLING_FILLED);
- whatever shrinks an entry without a fill (a cancel, an expiry, an STP decrement, a
  market remainder) cancels the legs' held part beyond what the entry still has open
  (PARENT_CANCELED);
- an exit canceled by its owner or expired ends its group: the other exit (canceled
  GROUP_CANCELED, or expired with it) and a still-working entry (GROUP_CANCELED);
- after a fill moves an account's position, its reduce-only orders that no longer reduce are
  trimmed, newest first (REDUCE_ONLY_TRIMMED).

A change that leaves an order nothing open ends it (OrderCanceled with the change's reason);
otherwise it is restated (OrderRestated).
"""

from __future__ import annotations

from matcher.engine.emit import closed_event, restated_event
from matcher.engine.market import Market
from matcher.engine.working import DONE, Group, RestingOrder
from shared.domain import reasons
from shared.domain.codes import ENTRY, OCO, SELL, TAKE_PROFIT
from shared.domain.commands import NewOrder, NewOrderGroup
from shared.domain.events import Event
from shared.domain.order_rules import (
    group_problem,
    new_order_problem,
    reduce_only_problem,
    trailing_stop_price,
)


class ContingentMarket(Market):
    """A market with the group and reduce-only rules; the venues supply the hooks."""

    # ----------------------------------------------------------------- venue hooks

    def _cut_live(self, o: RestingOrder, qty: int) -> None:
        """Take `qty` (<= leaves) off `o`'s live part, no event; at 0 live it leaves the
        book or the stops (it stays open: the caller holds it)."""
        raise NotImplementedError

    def _hold(self, o: RestingOrder) -> None:
        """`o` has nothing live but a held part: it waits with the held legs."""
        raise NotImplementedError

    def _drop(self, o: RestingOrder) -> None:
        """`o` ended: out of every container of the market (leaves set to 0)."""
        raise NotImplementedError

    def _grow_live(self, o: RestingOrder, qty: int) -> None:
        """`qty` of `o`'s held part goes live; the market works it when the step ends."""
        raise NotImplementedError

    def _has(self, order_id: str) -> bool:
        """An open order of the market has this id."""
        raise NotImplementedError

    def _post_only_takes(self, c: NewOrder) -> bool:
        """Post-only order `c` would take liquidity if it worked now."""
        raise NotImplementedError

    # ----------------------------------------------------------------- endings

    def _close(
        self,
        o: RestingOrder,
        ts: int,
        reason: str,
        expired: bool,
        out: list[Event],
        cascade: bool = True,
    ) -> None:
        """End `o` now (canceled, or expired): all it has open, live and held, goes.
        `cascade`: apply its group's rules (a cancel-all that takes the whole group does not)."""
        canceled = o.leaves_qty + o.held_qty
        self._drop(o)
        o.held_qty = 0
        out.append(closed_event(self.symbol, self._next_event(o), ts, o, canceled, reason, expired))
        if o.linked:
            self._forget(o)
            if cascade and o.group is not None:
                self._after_end(o, reason, expired, ts, out)

    def _forget(self, o: RestingOrder) -> None:
        """`o` ended: its group and its account's reduce-only orders no longer count it."""
        g = o.group
        if g is not None:
            if g.entry is o:
                g.entry = None
            elif g.take_profit is o:
                g.take_profit = None
            elif g.stop_loss is o:
                g.stop_loss = None
        if o.reduce_only:
            mine = self.reduce_only.get(o.account_id)
            if mine is not None and o in mine:
                mine.remove(o)
                if not mine:
                    del self.reduce_only[o.account_id]
                    del self.running[o.account_id]

    def _filled_out(self, o: RestingOrder) -> None:
        """After a fill took `o`'s live part to 0: it ends (nothing held) or waits held."""
        if o.held_qty == 0:
            self._forget(o)
        else:
            self._hold(o)

    def _after_end(
        self, o: RestingOrder, reason: str, expired: bool, ts: int, out: list[Event]
    ) -> None:
        """The group rules when `o` ended other than by a fill (see the module's doc)."""
        g = o.group
        assert g is not None
        if o.leg == ENTRY:
            self._sync_legs(g, 0, ts, out)
            return
        if reason != reasons.CANCELED_BY_CLIENT and not expired:
            return
        sibling = g.stop_loss if o.leg == TAKE_PROFIT else g.take_profit
        if sibling is not None:
            self._close(sibling, ts, reason if expired else reasons.GROUP_CANCELED, expired, out)
        entry = g.entry
        if entry is not None:
            self._close(entry, ts, reasons.GROUP_CANCELED, False, out)

    # ----------------------------------------------------------------- restatements

    def _reduce(self, o: RestingOrder, qty: int, reason: str, ts: int, out: list[Event]) -> None:
        """Take `qty` of `o`'s open quantity away, live part first, then held."""
        live = qty if qty < o.leaves_qty else o.leaves_qty
        held = qty - live
        if o.leaves_qty == live and o.held_qty == held:
            self._close(o, ts, reason, False, out)
            return
        if live:
            self._cut_live(o, live)
            if o.leaves_qty == 0:
                self._hold(o)
        o.held_qty -= held
        out.append(restated_event(self.symbol, self._next_event(o), ts, o, qty, reason))
        g = o.group
        if g is not None and o.leg == ENTRY:
            self._sync_legs(g, o.leaves_qty, ts, out)

    def _cut_held(self, o: RestingOrder, qty: int, reason: str, ts: int, out: list[Event]) -> None:
        """Take `qty` of `o`'s held part away."""
        if o.leaves_qty == 0 and o.held_qty == qty:
            self._close(o, ts, reason, False, out)
            return
        o.held_qty -= qty
        out.append(restated_event(self.symbol, self._next_event(o), ts, o, qty, reason))

    def _sync_legs(self, g: Group, entry_open: int, ts: int, out: list[Event]) -> None:
        """A leg never holds more than its entry can still fill (`entry_open`)."""
        for leg in (g.take_profit, g.stop_loss):
            if leg is not None and leg.held_qty > entry_open:
                self._cut_held(leg, leg.held_qty - entry_open, reasons.PARENT_CANCELED, ts, out)

    def _legs_follow(self, o: RestingOrder, delta: int, ts: int, out: list[Event]) -> None:
        """An entry's quantity changed by `delta` (a replace): its exits' follow, their
        held parts by as much (PARENT_REPLACED; a leg left with nothing open ends)."""
        g = o.group
        if g is None or o.leg != ENTRY or delta == 0:
            return
        for leg in (g.take_profit, g.stop_loss):
            if leg is None:
                continue
            held = leg.held_qty + delta
            if held < 0:
                held = 0
            change = held - leg.held_qty
            if change == 0:
                continue
            if leg.leaves_qty == 0 and held == 0:
                self._close(leg, ts, reasons.PARENT_REPLACED, False, out)
                continue
            leg.held_qty = held
            leg.quantity += change
            seq = self._next_event(leg)
            out.append(restated_event(self.symbol, seq, ts, leg, 0, reasons.PARENT_REPLACED))

    # ----------------------------------------------------------------- fills

    def _group_fill(self, o: RestingOrder, qty: int, ts: int, out: list[Event]) -> None:
        """What a fill of `qty` on group member `o` does to the others (after its events)."""
        g = o.group
        assert g is not None
        if o.leg == ENTRY:
            for leg in (g.take_profit, g.stop_loss):
                if leg is not None and leg.held_qty > 0:
                    release = qty if qty < leg.held_qty else leg.held_qty
                    self._grow_live(leg, release)
                    seq = self._next_event(leg)
                    out.append(restated_event(self.symbol, seq, ts, leg, 0, reasons.LEG_RELEASED))
            if o.where == DONE or (o.leaves_qty == 0 and o.held_qty == 0):
                self._sync_legs(g, 0, ts, out)
            return
        sibling = g.stop_loss if o.leg == TAKE_PROFIT else g.take_profit
        if sibling is not None and sibling.where != DONE:
            open_qty = sibling.leaves_qty + sibling.held_qty
            self._reduce(
                sibling, qty if qty < open_qty else open_qty, reasons.OCO_SIBLING_FILLED, ts, out
            )

    # ----------------------------------------------------------------- reduce-only

    def _live_orders(self) -> list[RestingOrder]:
        """Every open order of the market (any order)."""
        raise NotImplementedError

    def _reduce_only_refusal(
        self, side: str, quantity: int, account_id: str, out: list[Event]
    ) -> str:
        """REDUCE_ONLY_WOULD_INCREASE when a reduce-only order would not only reduce."""
        open_qty = 0
        for o in self.reduce_only.get(account_id, ()):
            if o.side == side:
                open_qty += o.leaves_qty + o.held_qty
        return reduce_only_problem(side, quantity, self._net(account_id, out), open_qty)

    def _net(self, account_id: str, out: list[Event]) -> int:
        """The account's position now: running while it has reduce-only orders here, else
        the venues' book with this command's fills so far."""
        net = self.running.get(account_id)
        if net is not None:
            return net
        self.book.fold(out)
        return self.book.net(account_id)

    def _add_reduce_only(self, o: RestingOrder, out: list[Event]) -> None:
        """A reduce-only order is open: its account's position is followed fill by fill
        from now on (its open orders here report their fills: `linked`)."""
        account = o.account_id
        mine = self.reduce_only.get(account)
        if mine is None:
            self.reduce_only[account] = [o]
            self._watch(account, self._net(account, out))
        else:
            mine.append(o)

    def _watch(self, account_id: str, net: int) -> None:
        self.running[account_id] = net
        for o in self._live_orders():
            if o.account_id == account_id:
                o.linked = True

    def _filled_for(self, o: RestingOrder, qty: int, ts: int, out: list[Event]) -> None:
        """A linked order filled `qty`: its account's running position moves, and its
        reduce-only orders that no longer reduce give way."""
        account = o.account_id
        net = self.running.get(account)
        if net is not None:
            self.running[account] = net + (qty if o.is_buy else -qty)
            self._trim(account, ts, out)

    def _trim(self, account_id: str, ts: int, out: list[Event]) -> None:
        """The account's reduce-only orders on each side may add up to what reduces its
        position (sells: the long position, buys: the short one); the newest give way."""
        mine = self.reduce_only.get(account_id)
        if not mine:
            return
        net = self.running.get(account_id, 0)
        sells = -(net if net > 0 else 0)
        buys = -(-net if net < 0 else 0)
        for o in mine:
            if o.side == SELL:
                sells += o.leaves_qty + o.held_qty
            else:
                buys += o.leaves_qty + o.held_qty
        if sells <= 0 and buys <= 0:
            return
        for o in list(reversed(mine)):
            excess = sells if o.side == SELL else buys
            if excess <= 0:
                continue
            open_qty = o.leaves_qty + o.held_qty
            cut = excess if excess < open_qty else open_qty
            if o.side == SELL:
                sells -= cut
            else:
                buys -= cut
            self._reduce(o, cut, reasons.REDUCE_ONLY_TRIMMED, ts, out)

    def keep_positions(self, out: list[Event]) -> None:
        """After a command of a market used alone (no `InstrumentVenues` around it): fold its
        fills into the position book, as the venues do."""
        self.book.fold(out)
        if self.running:
            self.resync()

    def resync(self) -> None:
        """After a command: the running positions agree with the venues' book again (an
        account trading on both venues moved there too)."""
        for account in self.running:
            self.running[account] = self.book.net(account)

    def watch_restored(self) -> None:
        """After a restore: follow again the accounts that have reduce-only orders."""
        for account in self.reduce_only:
            self._watch(account, self.book.net(account))

    # ----------------------------------------------------------------- groups

    def _group_refusal(self, g: NewOrderGroup, halted: bool) -> tuple[int, str]:
        """(index of the order at fault, reason), or (-1, ""): each order by itself first,
        in the group's order, then the group as a whole, then a post-only entry that
        would take."""
        for i, c in enumerate(g.orders):
            reason = new_order_problem(c, halted, self._has(c.order_id), True)
            if reason:
                return i, reason
        at, reason = group_problem(g)
        if reason:
            return at, reason
        entry = g.orders[0]
        if entry.post_only and self._post_only_takes(entry):
            return 0, reasons.POST_ONLY_WOULD_TAKE
        return -1, ""

    def _accept_group(self, g: NewOrderGroup, out: list[Event], mark_px: int) -> list[RestingOrder]:
        """Accept every order of `g` (already checked): the exits of a bracket or OTO are held,
        an OCO's are live at once. Returns the working orders, in the group's order; the
        market works the live ones. `mark_px` starts a live trailing stop's high-water mark."""
        group = Group(g.order_class)
        accepted: list[RestingOrder] = []
        for c in g.orders:
            held = c.quantity if c.leg != ENTRY and g.order_class != OCO else 0
            o = RestingOrder.accepted(c, 0)
            o.group = group
            o.linked = True  # (its fills matter to the others, and to a watched account)
            if o.trail_amount or o.trail_cbps:
                self._start_trailing(o, mark_px if held == 0 else 0)
            bid, ask, last, ref = self.arrival(c.ts)  # (a held leg arrives when released)
            self._answer_new(c, "", out, held, o.stop_price, bid=bid, ask=ask, last=last, ref=ref)
            if held:
                o.leaves_qty = 0
                o.held_qty = held
                self._hold(o)
            if c.leg == ENTRY:
                group.entry = o
            elif c.leg == TAKE_PROFIT:
                group.take_profit = o
            else:
                group.stop_loss = o
            accepted.append(o)
        return accepted

    def _start_trailing(self, o: RestingOrder, mark_px: int) -> None:
        """A trailing stop goes live: its high-water mark starts at the last price."""
        o.hwm = mark_px
        o.stop_price = trailing_stop_price(o.is_buy, mark_px, o.trail_amount, o.trail_cbps)
