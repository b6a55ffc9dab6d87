"""The matching engine of one instrument: price-time priority, no I/O, no wall clock.

`handle(command, out)` is the only entry point; it appends the events the command caused to
`out`. Every event gets the next instrument sequence number and the command's timestamp, so
the same command stream always yields the same events and the same state.

Rules (the published ones):
- Limit orders match at the resting order's price, best price first, then time priority.
- Market orders and IOC remainders never rest: the unfilled part is canceled.
- FOK is checked before any fill: all of it can fill now, or none of it does (an iceberg's
  hidden part counts).
- Stop / stop-limit orders wait until the last trade price reaches the stop price
  (buy: last >= stop; sell: last <= stop), then work as market / limit orders. Stops are
  checked after each order's matching step, against the step's last trade.
- Trailing stop: a sell's stop trails the highest trade price since it went live (its
  high-water mark, starting at the last trade price then) by `trail_amount` ticks or
  `trail_cbps` of it (rounded down to the tick); a buy's trails the lowest (rounded up).
  TrailingStopMoved when the stop moves. It triggers like a stop and works as a market order.
- Iceberg (`display_qty`): the book and its depth show only the displayed part; when that
  part is filled and a reserve remains, the next part is displayed at the BACK of its price
  level's queue (a refill loses time priority).
- Post-only: a limit order that would take liquidity when placed (its limit reaches the
  best opposite price), or when a replace moves its price, is rejected POST_ONLY_WOULD_TAKE
  (ReplaceRejected for a replace); it never fills as a taker.
- Reduce-only: the account's open reduce-only orders on a side may add up to at most its
  position on the other (sells: what it is long; buys: what it is short), counting every
  fill of both venues. A new one that would exceed is rejected REDUCE_ONLY_WOULD_INCREASE;
  after a fill moves the position, the newest reduce-only orders give way first
  (REDUCE_ONLY_TRIMMED), before anything else trades. A reduce-only order never flips a
  position.
- Contingent groups (NewOrderGroup: bracket [entry, take-profit, stop-loss], OTO [entry,
  one exit], OCO [take-profit, stop-loss]) are accepted or rejected whole in one step. A
  bracket's or OTO's exits are held until the entry fills and go live for what it fills,
  right after each fill (LEG_RELEASED), then work when that matching step ends: a
  take-profit rests or matches (more of it released later joins it at the back of its
  level), a stop-loss is parked or triggers. A bracket's two exits are an OCO pair: a fill of
  one reduces the other by as much (OCO_SIBLING_FILLED), so together they never fill more
  than the entry did. An entry canceled, expired or otherwise ended cancels the legs' held
  part (PARENT_CANCELED); an exit canceled by its owner (or expired) ends its group: the
  other exit and a still-working entry are canceled (GROUP_CANCELED). An exit's quantity
  follows its entry's: a replace of the entry's quantity restates the exits
  (PARENT_REPLACED); a replace of an exit's own quantity is rejected
  LEG_QUANTITY_FOLLOWS_ENTRY. The engine's own cancels of a leg's live part (IOC remainder,
  STP) keep its held part.
- Replace: quantity is the new total (filled part included); quantity down at the same
  price keeps time priority; a price change or quantity up loses it; a new quantity at or
  below what is done (filled, or canceled by the venue while open) is rejected.
- Self-trade prevention by the taker's mode: cancel newest (the taker), cancel oldest (the
  resting order), cancel both, or decrement (FIX 2964 decrement and cancel: the smaller of
  the two is canceled, the larger is reduced by as much, SELF_TRADE_DECREMENTED; equal:
  both canceled). No fill either way.
- Halted: new orders are rejected and resting orders are canceled.
- Expiry: GTD at its time (on a clock tick, or when a taker reaches it first); DAY at the
  end of the day (ExpireOrders end_of_day, sent at the session's close); legs, held parts,
  icebergs and trailing stops alike.
- ConfigureInstrument: new fees from that command on (InstrumentConfigured).
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import final

from matcher.engine.emit import replace_refused_event, replaced_event
from matcher.engine.matching import BookMarket, entry_key
from matcher.engine.working import DONE, HELD, IN_BOOK, IN_HAND, PARKED, RestingOrder
from shared.domain import reasons
from shared.domain.codes import BUY, DAY, GTD, HALTED
from shared.domain.commands import ConfigureInstrument, NewOrder, NewOrderGroup, ReplaceOrder
from shared.domain.events import Event, InstrumentConfigured, TradingStateChanged
from shared.domain.order_rules import (
    new_order_problem,
    replace_problem,
    trailing_stop_price,
    waits_for_trigger,
)


@final
class MatchingEngine(BookMarket):
    """One instrument's matching engine (see the module's rules)."""

    def arrival(self, ts: int) -> tuple[int, int, int, int]:
        """The book's best bid and ask and the last trade (no reference price: 0)."""
        bids, asks = self.bids.prices, self.asks.prices
        return (bids[-1] if bids else 0, asks[0] if asks else 0, self.last_px, 0)

    # ----------------------------------------------------------------- new orders

    def new_order(self, c: NewOrder, out: list[Event]) -> None:
        ts = c.ts
        oid = c.order_id
        duplicate = (
            oid in self.orders or oid in self.stops or (bool(self.held) and oid in self.held)
        )
        reason = new_order_problem(c, self.state == HALTED, duplicate)
        if not reason and (c.post_only or c.reduce_only):
            if c.post_only and self._post_only_takes(c):
                reason = reasons.POST_ONLY_WOULD_TAKE
            elif c.reduce_only:
                reason = self._reduce_only_refusal(c.side, c.quantity, c.account_id, out)
        # Only a trailing stop has a trail (order_rules.trail_problem).
        trailing = c.trail_amount != 0 or c.trail_cbps != 0
        bids, asks = self.bids.prices, self.asks.prices  # the market it arrives at
        bid = bids[len(bids) - 1] if bids else 0
        ask = asks[0] if asks else 0
        last = self.last_px
        if trailing and not reason:
            first_stop = trailing_stop_price(
                c.side == BUY, self.last_px, c.trail_amount, c.trail_cbps
            )
            if not self._answer_new(c, reason, out, 0, first_stop, bid=bid, ask=ask, last=last):
                return
        elif not self._answer_new(c, reason, out, bid=bid, ask=ask, last=last):
            return
        o = RestingOrder.accepted(c, 0)  # its entry_seq is set where it rests or parks
        if trailing:
            self._start_trailing(o, self.last_px)
        if o.reduce_only:
            self._add_reduce_only(o, out)
        elif self.running and c.account_id in self.running:
            o.linked = True  # its account's reduce-only orders follow its fills
        if o.time_in_force == GTD:
            heappush(self.gtd_heap, (o.expire_at, self.seq, oid))
        if o.stop_price > 0 or trailing:  # a stop order (order_rules: waits_for_trigger)
            if self._stop_reached(o):
                self._trigger(o, ts, out)
            else:
                self._park(o)
                return
        else:
            self._execute(o, ts, out)
        if self.pending or self.buy_stops or self.sell_stops:
            self._settle(ts, out)

    def new_group(self, g: NewOrderGroup, out: list[Event]) -> None:
        """A contingent group, accepted or rejected whole; its live orders work at once, in
        the group's order."""
        if not g.orders:
            return
        at, reason = self._group_refusal(g, self.state == HALTED)
        if reason:
            self._reject_group(g, at, reason, out)
            return
        members = self._accept_group(g, out, self.last_px)
        first_seq = self.seq - len(members) + 1  # each member's OrderAccepted, in order
        for i, o in enumerate(members):
            if o.time_in_force == GTD:
                heappush(self.gtd_heap, (o.expire_at, first_seq + i, o.order_id))
        ts = g.ts
        live = [o for o in members if o.held_qty == 0]  # (not the legs its fills release)
        for o in live:
            if o.where == IN_HAND and o.leaves_qty > 0:  # (an OCO sibling's fill may end it)
                self._work_new(o, ts, out)
        if self.pending or self.buy_stops or self.sell_stops:
            self._settle(ts, out)

    def _work_new(self, o: RestingOrder, ts: int, out: list[Event]) -> None:
        if waits_for_trigger(o.order_type):
            if self._stop_reached(o):
                self._trigger(o, ts, out)
            else:
                self._park(o)
        else:
            self._execute(o, ts, out)

    # ----------------------------------------------------------------- cancel

    def cancel(self, order_id: str, account_id: str, ts: int, out: list[Event]) -> None:
        o = self.orders.get(order_id)  # `_working`, spelled out: cancels are frequent
        if o is None:
            o = self.stops.get(order_id)
            if o is None:
                o = self.held.get(order_id)
        o = self._cancel_target(o, order_id, account_id, ts, out)
        if o is not None:
            self._close(o, ts, reasons.CANCELED_BY_CLIENT, False, out)

    def cancel_all(self, account_id: str, ts: int, reason: str, out: list[Event]) -> None:
        targets = [
            o
            for o in (*self.orders.values(), *self.stops.values(), *self.held.values())
            if not account_id or o.account_id == account_id
        ]
        targets.sort(key=entry_key)
        for o in targets:  # the whole group goes: no group rule to apply
            if o.where != DONE:
                self._close(o, ts, reason, False, out, False)

    # ----------------------------------------------------------------- replace

    def replace(self, c: ReplaceOrder, out: list[Event]) -> None:
        ts = c.ts
        o = self._replace_target(self._working(c.order_id), c, out)
        if o is None:
            return
        parked = o.where == PARKED
        new_qty = c.quantity if c.quantity > 0 else o.quantity
        reason = replace_problem(
            o.order_type,
            o.quantity - o.leaves_qty - o.held_qty,
            new_qty,
            c.price > 0,
            c.stop_price > 0,
            parked or o.where == HELD,
            o.leg,
            new_qty != o.quantity,
            c.trail_amount,
            c.trail_cbps,
        )
        moves_price = c.price > 0 and c.price != o.price
        if not reason and o.post_only and moves_price and self._would_take(o.is_buy, c.price):
            reason = reasons.POST_ONLY_WOULD_TAKE
        if not reason and o.reduce_only and new_qty > o.quantity:
            reason = self._reduce_only_refusal(o.side, new_qty - o.quantity, o.account_id, out)
        if reason:
            out.append(replace_refused_event(self.symbol, self._next_event(o), ts, o, reason))
            return
        new_px = c.price if c.price > 0 else o.price
        new_stop = c.stop_price if c.stop_price > 0 else o.stop_price
        trail_amount, trail_cbps = o.trail_amount, o.trail_cbps
        if c.trail_amount or c.trail_cbps:  # a new trail: the stop moves from the same mark
            trail_amount, trail_cbps = c.trail_amount, c.trail_cbps
            new_stop = trailing_stop_price(o.is_buy, o.hwm, trail_amount, trail_cbps)
        keeps_priority = (
            new_px == o.price and new_stop == o.stop_price and new_qty <= o.quantity and not parked
        )
        delta = new_qty - o.quantity
        if keeps_priority and o.where == IN_BOOK:
            level = (self.bids if o.is_buy else self.asks).levels[o.price]
            before = o.shown()
            o.leaves_qty += delta
            if o.visible > o.leaves_qty:
                o.visible = o.leaves_qty
            level.qty += o.shown() - before
            o.quantity = new_qty
            out.append(
                replaced_event(self.symbol, self._next_event(o), ts, o, True, c.client_order_id)
            )
            self._legs_follow(o, delta, ts, out)
            return
        where = o.where
        if where in (IN_BOOK, PARKED):
            self._take_off(o)
        o.quantity = new_qty
        o.price = new_px
        o.leaves_qty += delta
        o.trail_amount, o.trail_cbps = trail_amount, trail_cbps
        o.stop_price = new_stop
        seq = self._next_event(o)
        out.append(replaced_event(self.symbol, seq, ts, o, keeps_priority, c.client_order_id))
        self._legs_follow(o, delta, ts, out)
        if where == HELD:
            return  # a held leg: nothing live to work yet
        if parked:
            if self._stop_reached(o):
                self._trigger(o, ts, out)
            else:
                self._park(o)
        else:
            self._execute(o, ts, out)
        if self.pending or self.buy_stops or self.sell_stops:
            self._settle(ts, out)

    def _take_off(self, o: RestingOrder) -> None:
        """Out of the book or the stops for a replace that loses priority (it comes back)."""
        if o.where == IN_BOOK:
            del self.orders[o.order_id]
            (self.bids if o.is_buy else self.asks).take_out(o)
        else:
            self._unpark(o)
        o.visible = 0
        o.where = IN_HAND

    # ----------------------------------------------------------------- time and state

    def expire(self, ts: int, end_of_day: bool, out: list[Event]) -> None:
        heap = self.gtd_heap
        while heap and heap[0][0] <= ts:
            expire_at, _, order_id = heappop(heap)
            o = self._working(order_id)
            if o is not None and o.time_in_force == GTD and o.expire_at == expire_at:
                self._close(o, ts, reasons.EXPIRED_GTD, True, out)
        if end_of_day:
            day_orders = [
                o
                for o in (*self.orders.values(), *self.stops.values(), *self.held.values())
                if o.time_in_force == DAY
            ]
            day_orders.sort(key=entry_key)
            for o in day_orders:
                if o.where != DONE:  # (a group rule may have ended it already)
                    self._close(o, ts, reasons.EXPIRED_DAY, True, out)

    def set_trading_state(self, state: str, ts: int, out: list[Event]) -> None:
        self.state = state
        self.seq += 1
        out.append(TradingStateChanged(self.symbol, self.seq, ts, state))
        if state == HALTED:
            self.cancel_all("", ts, reasons.CANCELED_BY_HALT, out)

    def configure(self, c: ConfigureInstrument, out: list[Event]) -> None:
        self.maker_fee_cbps = c.maker_fee_cbps
        self.taker_fee_cbps = c.taker_fee_cbps
        self.seq += 1
        out.append(
            InstrumentConfigured(self.symbol, self.seq, c.ts, c.maker_fee_cbps, c.taker_fee_cbps)
        )
