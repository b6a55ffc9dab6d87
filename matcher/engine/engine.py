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
from matcher.engine.codes import (
    BUY,
    CANCEL_NEWEST,
    CANCEL_OLDEST,
    DAY,
    FILLED,
    FOK,
    GTD,
    HALTED,
    IOC,
    LIMIT,
    MAKER,
    MARKET,
    NEW,
    PARTIALLY_FILLED,
    REJECTED,
    STOP,
    STOP_LIMIT,
    TAKER,
)
from matcher.engine.emit import closed_event, replaced_event, triggered_event
from matcher.engine.validation import new_order_problem
from shared.domain import reasons
from shared.domain.commands import (
    CancelAll,
    CancelOrder,
    Command,
    ExpireOrders,
    NewOrder,
    ReplaceOrder,
    SetTradingState,
)
from shared.domain.events import (
    CancelRejected,
    Event,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    ReplaceRejected,
    TradingStateChanged,
)


@final
class MatchingEngine:
    """One instrument's book, stop orders, sequence counter and trading state."""

    def __init__(self, symbol: str, maker_fee_cbps: int = 0, taker_fee_cbps: int = 0) -> None:
        self.symbol = symbol
        self.maker_fee_cbps = maker_fee_cbps
        self.taker_fee_cbps = taker_fee_cbps
        self.seq = 0
        self.last_px = 0
        self.state = "active"
        self.bids = BookSide(True)
        self.asks = BookSide(False)
        self.orders: dict[str, RestingOrder] = {}  # live orders in the book
        self.stops: dict[str, RestingOrder] = {}  # stop orders waiting for their trigger
        self.buy_stops: list[tuple[int, int, str]] = []  # (stop px, entry seq, id) ascending
        self.sell_stops: list[tuple[int, int, str]] = []  # (-stop px, entry seq, id) ascending
        self.gtd_heap: list[tuple[int, int, str]] = []  # (expire_at, entry seq, id)

    # ----------------------------------------------------------------- entry point

    def handle(self, command: Command, out: list[Event]) -> None:
        """Apply one command; append the events it caused to `out`."""
        if isinstance(command, NewOrder):
            self.new_order(command, out)
        elif isinstance(command, CancelOrder):
            self.cancel(command.order_id, command.account_id, command.ts, out)
        elif isinstance(command, ReplaceOrder):
            self.replace(command, out)
        elif isinstance(command, CancelAll):
            reason = command.reason or reasons.CANCELED_BY_CLIENT
            self.cancel_all(command.account_id, command.ts, reason, out)
        elif isinstance(command, ExpireOrders):
            self.expire(command.ts, command.end_of_day, out)
        elif isinstance(command, SetTradingState):
            self.set_trading_state(command.state, command.ts, out)
        else:
            raise TypeError(f"unknown command {type(command).__name__}")

    # ----------------------------------------------------------------- new orders

    def process(self, commands: list[Command], out: list[Event]) -> None:
        """Apply a batch of commands in order (the matcher's unit of work)."""
        for command in commands:
            self.handle(command, out)

    def new_order(self, c: NewOrder, out: list[Event]) -> None:
        ts = c.ts
        reason = new_order_problem(
            c, self.state == HALTED, c.order_id in self.orders or c.order_id in self.stops
        )
        if reason:
            self.seq += 1
            out.append(
                OrderRejected(
                    self.symbol, self.seq, ts, c.order_id, c.account_id, 1, REJECTED, reason
                )
            )
            return
        is_buy = c.side == BUY
        o = RestingOrder(
            c.order_id,
            c.account_id,
            c.side,
            is_buy,
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
            0,
        )
        self.seq += 1
        out.append(
            OrderAccepted(
                self.symbol,
                self.seq,
                ts,
                c.order_id,
                c.account_id,
                1,
                NEW,
                c.side,
                c.order_type,
                c.quantity,
                c.price,
                c.stop_price,
            )
        )
        if o.tif == GTD:
            heappush(self.gtd_heap, (o.expire_at, self.seq, o.order_id))
        if o.order_type == STOP or o.order_type == STOP_LIMIT:
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
        is_market = o.order_type == MARKET or o.order_type == STOP
        if o.tif == FOK and self._fillable(o, is_market, ts) < o.leaves:
            self._cancel_taker(o, ts, reasons.FOK_NOT_FILLABLE, out)
            return
        if not self._match(o, is_market, ts, out):
            self._cancel_taker(o, ts, reasons.SELF_TRADE_PREVENTED, out)
            return
        if o.leaves == 0:
            return
        if is_market:
            reason = reasons.IOC_REMAINDER if o.cum > 0 else reasons.MARKET_NO_LIQUIDITY
            self._cancel_taker(o, ts, reason, out)
        elif o.tif == IOC or o.tif == FOK:
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
        while t.leaves > 0 and prices:
            best = prices[0] if taker_buy else prices[-1]
            if not is_market and (best > limit if taker_buy else best < limit):
                break
            level = levels[best]
            queue = level.orders
            while t.leaves > 0:
                m = queue[0]
                ml = m.leaves
                if ml == 0:
                    queue.popleft()
                    continue
                if m.expire_at != 0 and self._expired_on_contact(m, ts, out):
                    if level.live == 0:
                        break
                    continue
                if m.account_id == t.account_id:
                    mode = t.stp
                    if mode != CANCEL_NEWEST:
                        self._cancel_resting(m, ts, reasons.SELF_TRADE_PREVENTED, out)
                    if mode != CANCEL_OLDEST:
                        return False
                    if level.live == 0:
                        break
                    continue
                fq = t.leaves if t.leaves < ml else ml
                ml -= fq
                m.leaves = ml
                m.cum += fq
                m.order_seq += 1
                level.qty -= fq
                t.leaves -= fq
                t.cum += fq
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
                        m.cum,
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
                        FILLED if t.leaves == 0 else PARTIALLY_FILLED,
                        t.side,
                        fq,
                        best,
                        t.leaves,
                        t.cum,
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
        if m.tif != GTD or m.expire_at > ts:
            return False
        self._expire_one(m, ts, reasons.EXPIRED_GTD, out)
        return True

    def _fillable(self, t: RestingOrder, is_market: bool, ts: int) -> int:
        """How much of taker `t` could fill right now (FOK check), honouring STP."""
        opp = self.asks if t.is_buy else self.bids
        total = 0
        for price in opp.best_first():
            if not is_market and (price > t.price if t.is_buy else price < t.price):
                break
            for m in opp.levels[price].live_orders():
                if m.expire_at and m.expire_at <= ts and m.tif == GTD:
                    continue  # expires on contact: it fills nothing
                if m.account_id == t.account_id:
                    if t.stp != CANCEL_OLDEST:
                        return total
                    continue
                total += m.leaves
                if total >= t.leaves:
                    return total
        return total

    def _cancel_taker(self, o: RestingOrder, ts: int, reason: str, out: list[Event]) -> None:
        o.order_seq += 1
        self.seq += 1
        canceled = o.leaves
        o.leaves = 0
        out.append(closed_event(self.symbol, self.seq, ts, o, canceled, reason, False))

    def _cancel_resting(self, o: RestingOrder, ts: int, reason: str, out: list[Event]) -> None:
        canceled = o.leaves
        self._unlink(o)
        o.order_seq += 1
        self.seq += 1
        out.append(closed_event(self.symbol, self.seq, ts, o, canceled, reason, False))

    def _unlink(self, o: RestingOrder) -> None:
        """Take a live order out of the book or the stop lists (its leaves become 0)."""
        if o.order_id in self.stops:
            del self.stops[o.order_id]
            if o.is_buy:
                self.buy_stops.remove((o.stop_price, o.entry_seq, o.order_id))
            else:
                self.sell_stops.remove((-o.stop_price, o.entry_seq, o.order_id))
            o.leaves = 0
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
        o.order_seq += 1
        self.seq += 1
        out.append(triggered_event(self.symbol, self.seq, ts, o, self.last_px))
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
        o = self.orders.get(order_id)
        if o is None:
            o = self.stops.get(order_id)
        if o is None or o.account_id != account_id:
            self.seq += 1
            reason = reasons.UNKNOWN_ORDER if o is None else reasons.NOT_ORDER_OWNER
            out.append(
                CancelRejected(self.symbol, self.seq, ts, order_id, account_id, 0, "", reason)
            )
            return
        self._cancel_resting(o, ts, reasons.CANCELED_BY_CLIENT, out)

    def cancel_all(self, account_id: str, ts: int, reason: str, out: list[Event]) -> None:
        """Cancel every open order of `account_id` ("" = everyone), oldest first."""
        targets = [
            o
            for o in (*self.orders.values(), *self.stops.values())
            if not account_id or o.account_id == account_id
        ]
        targets.sort(key=_entry_key)
        for o in targets:
            self._cancel_resting(o, ts, reason, out)

    # ----------------------------------------------------------------- replace

    def replace(self, c: ReplaceOrder, out: list[Event]) -> None:
        ts = c.ts
        o = self.orders.get(c.order_id)
        parked = False
        if o is None:
            o = self.stops.get(c.order_id)
            parked = o is not None
        if o is None or o.account_id != c.account_id:
            reason = reasons.UNKNOWN_ORDER if o is None else reasons.NOT_ORDER_OWNER
            self.seq += 1
            out.append(
                ReplaceRejected(self.symbol, self.seq, ts, c.order_id, c.account_id, 0, "", reason)
            )
            return
        new_qty = c.quantity if c.quantity > 0 else o.quantity
        new_px = c.price if c.price > 0 else o.price
        new_stop = c.stop_price if c.stop_price > 0 else o.stop_price
        reason = ""
        if new_qty <= o.cum:
            reason = reasons.REPLACE_QTY_AT_OR_BELOW_FILLED
        elif (c.price > 0 and o.order_type not in (LIMIT, STOP_LIMIT)) or (
            c.stop_price > 0 and not parked
        ):
            reason = reasons.REPLACE_INVALID
        if reason:
            o.order_seq += 1
            self.seq += 1
            status = PARTIALLY_FILLED if o.cum > 0 else NEW
            out.append(
                ReplaceRejected(
                    self.symbol, self.seq, ts, o.order_id, o.account_id, o.order_seq, status, reason
                )
            )
            return
        keeps_priority = (
            new_px == o.price and new_stop == o.stop_price and new_qty <= o.quantity and not parked
        )
        new_leaves = new_qty - o.cum
        if keeps_priority:
            side = self.bids if o.is_buy else self.asks
            side.levels[o.price].qty += new_leaves - o.leaves
            o.leaves = new_leaves
            o.quantity = new_qty
            self._replaced(o, ts, True, c.client_order_id, out)
            return
        fresh = o.copy()
        self._unlink(o)
        fresh.quantity = new_qty
        fresh.price = new_px
        fresh.stop_price = new_stop
        fresh.leaves = new_leaves
        self._replaced(fresh, ts, False, c.client_order_id, out)
        if parked:
            if self._stop_reached(fresh):
                self._trigger(fresh, ts, out)
            else:
                self._park_stop(fresh)
        else:
            self._execute(fresh, ts, out)
        if self.buy_stops or self.sell_stops:
            self._trigger_stops(ts, out)

    def _replaced(
        self, o: RestingOrder, ts: int, kept: bool, client_order_id: str, out: list[Event]
    ) -> None:
        o.order_seq += 1
        self.seq += 1
        out.append(replaced_event(self.symbol, self.seq, ts, o, kept, client_order_id))

    # ----------------------------------------------------------------- time and state

    def expire(self, ts: int, end_of_day: bool, out: list[Event]) -> None:
        """Expire GTD orders whose time has come and, at the end of the day, DAY orders."""
        heap = self.gtd_heap
        while heap and heap[0][0] <= ts:
            expire_at, _, order_id = heappop(heap)
            o = self.orders.get(order_id) or self.stops.get(order_id)
            if o is not None and o.tif == GTD and o.expire_at == expire_at:
                self._expire_one(o, ts, reasons.EXPIRED_GTD, out)
        if end_of_day:
            day_orders = [o for o in (*self.orders.values(), *self.stops.values()) if o.tif == DAY]
            day_orders.sort(key=_entry_key)
            for o in day_orders:
                self._expire_one(o, ts, reasons.EXPIRED_DAY, out)

    def _expire_one(self, o: RestingOrder, ts: int, reason: str, out: list[Event]) -> None:
        canceled = o.leaves
        self._unlink(o)
        o.order_seq += 1
        self.seq += 1
        out.append(closed_event(self.symbol, self.seq, ts, o, canceled, reason, True))

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
