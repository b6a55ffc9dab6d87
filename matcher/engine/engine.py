"""The matching engine of one instrument: price-time priority, no I/O, no wall clock.

`handle(command, out)` is the only entry point; it appends the events the command caused to
`out`. Every event gets the next instrument sequence number and the command's timestamp, so
the same command stream always yields the same events and the same state.

Rules (the published ones):
- Limit orders match at the resting order's price, best price first, then time priority.
- Market orders and IOC remainders never rest: the unfilled part is canceled.
- FOK is checked before any fill: all of it can fill now, or none of it does.
- Stop / stop-limit orders wait until the last trade price reaches the stop price
  (buy: last >= stop; sell: last <= stop), then work as market / limit orders.
- Replace: quantity is the new total (filled part included); quantity down at the same
  price keeps time priority; a price change or quantity up loses it; a new quantity at or
  below the filled quantity is rejected.
- Self-trade prevention by the taker's mode: cancel newest (the taker), cancel oldest (the
  resting order), or cancel both.
- Halted: new orders are rejected and resting orders are canceled.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import final

from matcher.engine.book import BookSide, RestingOrder
from matcher.engine.emit import (
    closed_event,
    replace_refused_event,
    replaced_event,
    triggered_event,
)
from matcher.engine.market import Market
from shared.domain import reasons
from shared.domain.codes import (
    CANCEL_NEWEST,
    CANCEL_OLDEST,
    DAY,
    FILLED,
    FOK,
    GTD,
    HALTED,
    IOC,
    MAKER,
    PARTIALLY_FILLED,
    TAKER,
)
from shared.domain.commands import NewOrder, ReplaceOrder
from shared.domain.events import Event, OrderFilled, TradingStateChanged
from shared.domain.order_rules import new_order_problem, replace_problem


@final
class MatchingEngine(Market):
    """One instrument's book, stop orders, sequence counter and trading state."""

    def __init__(self, symbol: str, maker_fee_cbps: int = 0, taker_fee_cbps: int = 0) -> None:
        super().__init__(symbol)
        self.maker_fee_cbps = maker_fee_cbps
        self.taker_fee_cbps = taker_fee_cbps
        self.last_px = 0
        self.state = "active"
        self.bids = BookSide(True)
        self.asks = BookSide(False)
        self.orders: dict[str, RestingOrder] = {}  # live orders in the book
        self.stops: dict[str, RestingOrder] = {}  # stop orders waiting for their trigger
        self.buy_stops: list[tuple[int, int, str]] = []  # (stop px, entry seq, id) ascending
        self.sell_stops: list[tuple[int, int, str]] = []  # (-stop px, entry seq, id) ascending
        self.gtd_heap: list[tuple[int, int, str]] = []  # (expire_at, entry seq, id)

    # ----------------------------------------------------------------- lookups

    def _working(self, order_id: str) -> RestingOrder | None:
        """The working order with this id: in the book or waiting for its trigger."""
        o = self.orders.get(order_id)
        if o is None:
            o = self.stops.get(order_id)
        return o

    def arrival(self, ts: int) -> tuple[int, int, int, int]:
        """The book's best bid and ask and the last trade (no reference price: 0)."""
        bids, asks = self.bids.prices, self.asks.prices
        return (bids[-1] if bids else 0, asks[0] if asks else 0, self.last_px, 0)

    # ----------------------------------------------------------------- new orders

    def new_order(self, c: NewOrder, out: list[Event]) -> None:
        ts = c.ts
        reason = new_order_problem(
            c, self.state == HALTED, c.order_id in self.orders or c.order_id in self.stops
        )
        bids, asks = self.bids.prices, self.asks.prices  # the market it arrives at
        bid = bids[len(bids) - 1] if bids else 0
        ask = asks[0] if asks else 0
        if not self._answer_new(c, reason, out, bid=bid, ask=ask, last=self.last_px):
            return
        o = RestingOrder.accepted(c, 0)  # its entry_seq is set where it rests or parks
        if o.time_in_force == GTD:
            heappush(self.gtd_heap, (o.expire_at, self.seq, o.order_id))
        if o.stop_price > 0:  # a stop order: only they carry a stop price (order_rules)
            if self._stop_reached(o):
                self._trigger(o, ts, out)
            else:
                self._park_stop(o)
                return
        else:
            self._execute(o, ts, out)
        if self.buy_stops or self.sell_stops:
            self._trigger_stops(ts, out)

    def _execute(self, o: RestingOrder, ts: int, out: list[Event]) -> None:
        """Work a (new or triggered) order: match what crosses, then rest or cancel the rest."""
        # No limit price (order_rules.works_as_market: market, or a triggered stop): any price.
        is_market = o.price == 0
        if o.time_in_force == FOK and self._fillable(o, is_market, ts) < o.leaves_qty:
            self._cancel_taker(o, ts, reasons.FOK_NOT_FILLABLE, out)
            return
        if not self._match(o, is_market, ts, out):
            self._cancel_taker(o, ts, reasons.SELF_TRADE_PREVENTED, out)
            return
        if o.leaves_qty == 0:
            return
        if is_market:
            reason = reasons.IOC_REMAINDER if o.cum_qty > 0 else reasons.MARKET_NO_LIQUIDITY
            self._cancel_taker(o, ts, reason, out)
        elif o.time_in_force == IOC or o.time_in_force == FOK:
            self._cancel_taker(o, ts, reasons.IOC_REMAINDER, out)
        else:
            self._rest(o)

    def _rest(self, o: RestingOrder) -> None:
        o.entry_seq = self.seq
        self.orders[o.order_id] = o
        if o.is_buy:
            self.bids.add(o)
        else:
            self.asks.add(o)

    def _match(self, t: RestingOrder, is_market: bool, ts: int, out: list[Event]) -> bool:
        """Match taker `t` against the other side. False: STP canceled the taker."""
        taker_buy = t.is_buy
        opp = self.asks if taker_buy else self.bids
        prices = opp.prices
        levels = opp.levels
        limit = t.price
        symbol = self.symbol
        while t.leaves_qty > 0 and prices:
            best = prices[0] if taker_buy else prices[-1]
            if not is_market and (best > limit if taker_buy else best < limit):
                break
            level = levels[best]
            queue = level.orders
            while t.leaves_qty > 0:
                m = queue[0]
                ml = m.leaves_qty
                if ml == 0:
                    queue.popleft()
                    continue
                if m.expire_at != 0 and self._expired_on_contact(m, ts, out):
                    if level.live == 0:
                        break
                    continue
                if m.account_id == t.account_id:
                    mode = t.self_match_prevention
                    if mode != CANCEL_NEWEST:
                        self._close(m, ts, reasons.SELF_TRADE_PREVENTED, False, out)
                    if mode != CANCEL_OLDEST:
                        return False
                    if level.live == 0:
                        break
                    continue
                fq = t.leaves_qty if t.leaves_qty < ml else ml
                ml -= fq
                m.leaves_qty = ml
                m.cum_qty += fq
                m.order_seq += 1
                level.qty -= fq
                t.leaves_qty -= fq
                t.cum_qty += fq
                t.order_seq += 1
                seq = self.seq + 1
                out.append(
                    OrderFilled(
                        symbol,
                        seq,
                        ts,
                        m.order_id,
                        m.account_id,
                        m.order_seq,
                        FILLED if ml == 0 else PARTIALLY_FILLED,
                        m.side,
                        fq,
                        best,
                        ml,
                        m.cum_qty,
                        MAKER,
                        fq * best * self.maker_fee_cbps,
                        seq,
                    )
                )
                out.append(
                    OrderFilled(
                        symbol,
                        seq + 1,
                        ts,
                        t.order_id,
                        t.account_id,
                        t.order_seq,
                        FILLED if t.leaves_qty == 0 else PARTIALLY_FILLED,
                        t.side,
                        fq,
                        best,
                        t.leaves_qty,
                        t.cum_qty,
                        TAKER,
                        fq * best * self.taker_fee_cbps,
                        seq,
                    )
                )
                self.seq = seq + 1
                self.last_px = best
                if ml == 0:
                    queue.popleft()
                    del self.orders[m.order_id]
                    level.live -= 1
                    if level.live == 0:
                        opp.drop_level(best)
                        break
        return True

    def _expired_on_contact(self, m: RestingOrder, ts: int, out: list[Event]) -> bool:
        """A GTD order whose time ran out before a clock tick expired it never trades:
        it expires when a taker reaches it."""
        if m.time_in_force != GTD or m.expire_at > ts:
            return False
        self._close(m, ts, reasons.EXPIRED_GTD, True, out)
        return True

    def _fillable(self, t: RestingOrder, is_market: bool, ts: int) -> int:
        """How much of taker `t` could fill right now (FOK check), honouring STP."""
        opp = self.asks if t.is_buy else self.bids
        total = 0
        for price in opp.best_first():
            if not is_market and (price > t.price if t.is_buy else price < t.price):
                break
            for m in opp.levels[price].live_orders():
                if m.expire_at and m.expire_at <= ts and m.time_in_force == GTD:
                    continue  # expires on contact: it fills nothing
                if m.account_id == t.account_id:
                    if t.self_match_prevention != CANCEL_OLDEST:
                        return total
                    continue
                total += m.leaves_qty
                if total >= t.leaves_qty:
                    return total
        return total

    def _cancel_taker(self, o: RestingOrder, ts: int, reason: str, out: list[Event]) -> None:
        """Cancel what is left of a taker that may not rest (it is in no book)."""
        canceled = o.leaves_qty
        o.leaves_qty = 0
        out.append(closed_event(self.symbol, self._next_event(o), ts, o, canceled, reason, False))

    def _close(
        self, o: RestingOrder, ts: int, reason: str, expired: bool, out: list[Event]
    ) -> None:
        """Take a working order out of the book or the stops; it is canceled or expired."""
        canceled = o.leaves_qty
        self._unlink(o)
        out.append(closed_event(self.symbol, self._next_event(o), ts, o, canceled, reason, expired))

    def _unlink(self, o: RestingOrder) -> None:
        """Take a live order out of the book or the stop lists (its leaves become 0)."""
        if o.order_id in self.stops:
            del self.stops[o.order_id]
            if o.is_buy:
                self.buy_stops.remove((o.stop_price, o.entry_seq, o.order_id))
            else:
                self.sell_stops.remove((-o.stop_price, o.entry_seq, o.order_id))
            o.leaves_qty = 0
            return
        del self.orders[o.order_id]
        if o.is_buy:
            self.bids.remove(o)
        else:
            self.asks.remove(o)

    # ----------------------------------------------------------------- stops

    def _stop_reached(self, o: RestingOrder) -> bool:
        last = self.last_px
        if last == 0:
            return False
        return last >= o.stop_price if o.is_buy else last <= o.stop_price

    def _park_stop(self, o: RestingOrder) -> None:
        o.entry_seq = self.seq
        self.stops[o.order_id] = o
        if o.is_buy:
            _insort(self.buy_stops, (o.stop_price, o.entry_seq, o.order_id))
        else:
            _insort(self.sell_stops, (-o.stop_price, o.entry_seq, o.order_id))

    def _trigger(self, o: RestingOrder, ts: int, out: list[Event]) -> None:
        seq = self._next_event(o)
        out.append(triggered_event(self.symbol, seq, ts, o, self.last_px, self.arrival(ts)))
        self._execute(o, ts, out)

    def _trigger_stops(self, ts: int, out: list[Event]) -> None:
        """Trigger every stop the last trade price reached, cascading, in stop-price order."""
        while True:
            last = self.last_px
            if last == 0:
                return
            key: tuple[int, int, str] | None = None
            if self.buy_stops and self.buy_stops[0][0] <= last:
                key = self.buy_stops.pop(0)
            elif self.sell_stops and -self.sell_stops[0][0] >= last:
                key = self.sell_stops.pop(0)
            if key is None:
                return
            o = self.stops.pop(key[2])
            self._trigger(o, ts, out)

    # ----------------------------------------------------------------- cancel

    def cancel(self, order_id: str, account_id: str, ts: int, out: list[Event]) -> None:
        o = self.orders.get(order_id)  # `_working`, spelled out: cancels are frequent
        if o is None:
            o = self.stops.get(order_id)
        o = self._cancel_target(o, order_id, account_id, ts, out)
        if o is not None:
            self._close(o, ts, reasons.CANCELED_BY_CLIENT, False, out)

    def cancel_all(self, account_id: str, ts: int, reason: str, out: list[Event]) -> None:
        targets = [
            o
            for o in (*self.orders.values(), *self.stops.values())
            if not account_id or o.account_id == account_id
        ]
        targets.sort(key=_entry_key)
        for o in targets:
            self._close(o, ts, reason, False, out)

    # ----------------------------------------------------------------- replace

    def replace(self, c: ReplaceOrder, out: list[Event]) -> None:
        ts = c.ts
        o = self.orders.get(c.order_id)
        parked = False
        if o is None:
            o = self.stops.get(c.order_id)
            parked = o is not None
        o = self._replace_target(o, c, out)
        if o is None:
            return
        new_qty = c.quantity if c.quantity > 0 else o.quantity
        reason = replace_problem(
            o.order_type, o.cum_qty, new_qty, c.price > 0, c.stop_price > 0, parked
        )
        if reason:
            out.append(replace_refused_event(self.symbol, self._next_event(o), ts, o, reason))
            return
        new_px = c.price if c.price > 0 else o.price
        new_stop = c.stop_price if c.stop_price > 0 else o.stop_price
        keeps_priority = (
            new_px == o.price and new_stop == o.stop_price and new_qty <= o.quantity and not parked
        )
        new_leaves = new_qty - o.cum_qty
        if keeps_priority:
            side = self.bids if o.is_buy else self.asks
            side.levels[o.price].qty += new_leaves - o.leaves_qty
            o.leaves_qty = new_leaves
            o.quantity = new_qty
            seq = self._next_event(o)
            out.append(replaced_event(self.symbol, seq, ts, o, True, c.client_order_id))
            return
        fresh = o.copy()
        self._unlink(o)
        fresh.quantity = new_qty
        fresh.price = new_px
        fresh.stop_price = new_stop
        fresh.leaves_qty = new_leaves
        seq = self._next_event(fresh)
        out.append(replaced_event(self.symbol, seq, ts, fresh, False, c.client_order_id))
        if parked:
            if self._stop_reached(fresh):
                self._trigger(fresh, ts, out)
            else:
                self._park_stop(fresh)
        else:
            self._execute(fresh, ts, out)
        if self.buy_stops or self.sell_stops:
            self._trigger_stops(ts, out)

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
                o for o in (*self.orders.values(), *self.stops.values()) if o.time_in_force == DAY
            ]
            day_orders.sort(key=_entry_key)
            for o in day_orders:
                self._close(o, ts, reasons.EXPIRED_DAY, True, out)

    def set_trading_state(self, state: str, ts: int, out: list[Event]) -> None:
        self.state = state
        self.seq += 1
        out.append(TradingStateChanged(self.symbol, self.seq, ts, state))
        if state == HALTED:
            self.cancel_all("", ts, reasons.CANCELED_BY_HALT, out)

    # ----------------------------------------------------------------- queries

    def depth(self, levels: int) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        """L2: the best `levels` bid and ask levels as (price, quantity, order count)."""
        return self.bids.depth(levels), self.asks.depth(levels)

    def open_orders(self) -> list[RestingOrder]:
        """Every working order (book and stops), oldest entry first."""
        orders = [*self.orders.values(), *self.stops.values()]
        orders.sort(key=_entry_key)
        return orders


def _entry_key(o: RestingOrder) -> tuple[int, str]:
    return (o.entry_seq, o.order_id)


def _insort(items: list[tuple[int, int, str]], item: tuple[int, int, str]) -> None:
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid] < item:
            lo = mid + 1
        else:
            hi = mid
    items.insert(lo, item)
