"""The matching engine's book mechanics: a taker's matching step, resting, and the hooks
the contingent rules act through (stops are `StopsMarket`'s, stops.py). `MatchingEngine`
(engine.py) turns commands into these steps.

A matching step is one taker against the book. Its fills come in pairs (maker, taker), each
followed at once by what it causes to other orders (an entry's legs released, an OCO sibling
reduced, the maker account's reduce-only orders trimmed). When the step ends: the taker's
remainder rests or is canceled, the taker account's reduce-only orders are trimmed, trailing
stops follow the step's trades, then the legs it released are worked (in release order) and
the stops the last trade reached trigger (one at a time, each its own step).
"""

from __future__ import annotations

from matcher.engine.book import BookSide
from matcher.engine.emit import closed_event
from matcher.engine.fillable import fillable
from matcher.engine.stops import StopsMarket
from matcher.engine.working import (
    DONE,
    HELD,
    IN_BOOK,
    IN_HAND,
    PARKED,
    PENDING,
    RestingOrder,
)
from shared.domain import reasons
from shared.domain.codes import (
    ACTIVE,
    BUY,
    CANCEL_NEWEST,
    CANCEL_OLDEST,
    DECREMENT,
    FILLED,
    FOK,
    GTD,
    IOC,
    MAKER,
    PARTIALLY_FILLED,
    TAKER,
)
from shared.domain.commands import NewOrder
from shared.domain.events import Event, OrderFilled
from shared.domain.order_rules import waits_for_trigger


class BookMarket(StopsMarket):
    """One instrument's book, stop orders, held legs, sequence counter and trading state."""

    def __init__(self, symbol: str, maker_fee_cbps: int = 0, taker_fee_cbps: int = 0) -> None:
        super().__init__(symbol)
        self.maker_fee_cbps = maker_fee_cbps
        self.taker_fee_cbps = taker_fee_cbps
        self.state = ACTIVE
        self.bids = BookSide(True)
        self.asks = BookSide(False)
        self.orders: dict[str, RestingOrder] = {}  # live orders in the book
        self.held: dict[str, RestingOrder] = {}  # contingent legs with nothing live
        self.gtd_heap: list[tuple[int, int, str]] = []  # (expire_at, entry seq, id)
        self.step_first_px = 0  # the first trade price of the current step (0: none)

    # ----------------------------------------------------------------- lookups

    def working(self, order_id: str) -> RestingOrder | None:
        """The open order with this id: in the book, waiting for its trigger, or held."""
        return self._working(order_id)

    def _working(self, order_id: str) -> RestingOrder | None:
        """The open order with this id: in the book, waiting for its trigger, or held."""
        o = self.orders.get(order_id)
        if o is None:
            o = self.stops.get(order_id)
            if o is None:
                o = self.held.get(order_id)
        return o

    def _live_orders(self) -> list[RestingOrder]:
        return [*self.orders.values(), *self.stops.values(), *self.held.values()]

    def _has(self, order_id: str) -> bool:
        return order_id in self.orders or order_id in self.stops or order_id in self.held

    def is_open(self, order_id: str) -> bool:
        """An order with this id is open here (in the book, waiting for its trigger, held)."""
        return self._has(order_id)

    def _would_take(self, is_buy: bool, price: int) -> bool:
        """A limit order at `price` would cross the best opposite price now."""
        prices = self.asks.prices if is_buy else self.bids.prices
        if not prices:
            return False
        return prices[0] <= price if is_buy else prices[-1] >= price

    def _post_only_takes(self, c: NewOrder) -> bool:
        return self._would_take(c.side == BUY, c.price)

    # ----------------------------------------------------------------- a matching step

    def _execute(self, o: RestingOrder, ts: int, out: list[Event]) -> None:
        """Work a (new, triggered, released or replaced) order: match what crosses, then
        rest or cancel the rest; then what the step's trades cause."""
        # No limit price (order_rules.works_as_market: market, or a triggered stop): any price.
        is_market = o.price == 0
        o.where = IN_HAND
        if o.time_in_force == FOK:
            opp = self.asks if o.is_buy else self.bids
            can = fillable(opp, o, is_market, ts, self.reduce_only, self.running)
            if can < o.leaves_qty:
                self._cancel_taker(o, ts, reasons.FOK_NOT_FILLABLE, out)
                return
        cum_before = o.cum_qty
        self.step_first_px = 0
        not_prevented = self._match(o, is_market, ts, out)
        first_px = self.step_first_px
        if o.where == IN_HAND:  # (a group rule may have ended it during the step)
            if not not_prevented:
                self._cancel_taker(o, ts, reasons.SELF_TRADE_PREVENTED, out)
            elif o.leaves_qty == 0:
                o.where = DONE
                if o.linked:
                    self._filled_out(o)
            elif is_market:
                reason = reasons.IOC_REMAINDER if o.cum_qty > 0 else reasons.MARKET_NO_LIQUIDITY
                self._cancel_taker(o, ts, reason, out)
            elif o.time_in_force == IOC or o.time_in_force == FOK:
                self._cancel_taker(o, ts, reasons.IOC_REMAINDER, out)
            else:
                self._rest(o)
        if first_px:
            if o.linked:
                self._filled_for(o, o.cum_qty - cum_before, ts, out)
            if self.trailing:
                self._follow(first_px, ts, out)

    def _rest(self, o: RestingOrder) -> None:
        seq = self.seq  # `_next_entry`, spelled out: every resting order takes one
        entry = seq if seq > self.last_entry else self.last_entry + 1
        self.last_entry = entry
        o.entry_seq = entry
        o.where = IN_BOOK
        if o.display_qty:
            o.visible = o.display_qty if o.display_qty < o.leaves_qty else o.leaves_qty
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
        first_px = 0
        taker_grouped = t.group is not None
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
                    if mode == DECREMENT:
                        if not self._decrement(m, t, ts, out):
                            return False
                    else:
                        if mode != CANCEL_NEWEST:
                            self._cancel_resting(m, ts, reasons.SELF_TRADE_PREVENTED, out)
                        if mode != CANCEL_OLDEST:
                            return False
                    if level.live == 0:
                        break
                    continue
                avail = m.visible if m.display_qty else ml
                fq = t.leaves_qty if t.leaves_qty < avail else avail
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
                        FILLED if ml == 0 and m.held_qty == 0 else PARTIALLY_FILLED,
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
                        FILLED if t.leaves_qty == 0 and t.held_qty == 0 else PARTIALLY_FILLED,
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
                if first_px == 0:
                    first_px = best
                    self.step_first_px = best
                if ml == 0:
                    queue.popleft()
                    del self.orders[m.order_id]
                    m.where = DONE
                    level.live -= 1
                    if level.live == 0:
                        opp.drop_level(best)
                elif m.display_qty:
                    m.visible -= fq
                    if m.visible == 0:  # the next slice, at the back of the queue
                        m.visible = m.display_qty if m.display_qty < ml else ml
                        m.entry_seq = self._next_entry()
                        opp.to_back(m, level)
                if m.linked or taker_grouped:
                    self._after_trade(m, t, fq, ts, out)
                if level.live == 0:
                    break
        return True

    def _after_trade(
        self, m: RestingOrder, t: RestingOrder, qty: int, ts: int, out: list[Event]
    ) -> None:
        """What a trade of `qty` between maker `m` and taker `t` causes, right after it."""
        if m.linked:
            if m.leaves_qty == 0:
                self._filled_out(m)
            if m.group is not None:
                self._group_fill(m, qty, ts, out)
        if t.group is not None:
            self._group_fill(t, qty, ts, out)
        if m.linked:
            self._filled_for(m, qty, ts, out)

    def _decrement(self, m: RestingOrder, t: RestingOrder, ts: int, out: list[Event]) -> bool:
        """STP decrement and cancel: the smaller of the two is canceled, the larger loses as
        much; equal, both go. False: the taker is canceled (the caller cancels it)."""
        resting, taking = m.leaves_qty, t.leaves_qty
        if taking < resting:
            self._reduce(m, taking, reasons.SELF_TRADE_DECREMENTED, ts, out)
            return False
        self._reduce(m, resting, reasons.SELF_TRADE_PREVENTED, ts, out)
        if taking == resting:
            return False
        self._reduce(t, resting, reasons.SELF_TRADE_DECREMENTED, ts, out)
        return True

    def _expired_on_contact(self, m: RestingOrder, ts: int, out: list[Event]) -> bool:
        """A GTD order whose time ran out before a clock tick expired it never trades:
        it expires when a taker reaches it."""
        if m.time_in_force != GTD or m.expire_at > ts:
            return False
        self._close(m, ts, reasons.EXPIRED_GTD, True, out)
        return True

    def _cancel_resting(self, m: RestingOrder, ts: int, reason: str, out: list[Event]) -> None:
        """Cancel a resting order's live part (a leg keeps its held part)."""
        if m.linked:
            self._reduce(m, m.leaves_qty, reason, ts, out)
        else:
            self._close(m, ts, reason, False, out)

    def _cancel_taker(self, o: RestingOrder, ts: int, reason: str, out: list[Event]) -> None:
        """Cancel what is left live of a taker that may not rest (it is in no book)."""
        if o.linked or o.held_qty:
            self._reduce(o, o.leaves_qty, reason, ts, out)
            return
        canceled = o.leaves_qty
        o.leaves_qty = 0
        o.where = DONE
        out.append(closed_event(self.symbol, self._next_event(o), ts, o, canceled, reason, False))

    # ----------------------------------------------------------------- contingent hooks

    def _cut_live(self, o: RestingOrder, qty: int) -> None:
        w = o.where
        if qty >= o.leaves_qty:
            if w == IN_BOOK:
                del self.orders[o.order_id]
                (self.bids if o.is_buy else self.asks).take_out(o)
            elif w == PARKED:
                self._unpark(o)
            elif w == PENDING:
                self.pending.remove(o)
            o.leaves_qty = 0
            o.visible = 0
            o.where = IN_HAND
            return
        if w != IN_BOOK:
            o.leaves_qty -= qty
            return
        level = (self.bids if o.is_buy else self.asks).levels[o.price]
        before = o.shown()
        o.leaves_qty -= qty
        if o.visible > o.leaves_qty:
            o.visible = o.leaves_qty  # an iceberg loses its reserve first
        level.qty -= before - o.shown()

    def _hold(self, o: RestingOrder) -> None:
        o.where = HELD
        o.entry_seq = self._next_entry()
        o.triggered = False
        if o.trail_amount or o.trail_cbps:
            o.hwm = 0  # it trails again from the last price when it is live again
        self.held[o.order_id] = o

    def _drop(self, o: RestingOrder) -> None:
        w = o.where
        if w == IN_BOOK:
            del self.orders[o.order_id]
            (self.bids if o.is_buy else self.asks).remove(o)
        elif w == PARKED:
            self._unpark(o)
        elif w == HELD:
            del self.held[o.order_id]
        elif w == PENDING:
            self.pending.remove(o)
        o.leaves_qty = 0
        o.visible = 0
        o.where = DONE

    def _grow_live(self, o: RestingOrder, qty: int) -> None:
        w = o.where
        if w != PENDING:
            o.triggered = w == IN_BOOK and waits_for_trigger(o.order_type)
        if w == IN_BOOK:
            del self.orders[o.order_id]
            (self.bids if o.is_buy else self.asks).take_out(o)
        elif w == PARKED:
            self._unpark(o)
        elif w == HELD:
            del self.held[o.order_id]
        o.held_qty -= qty
        o.leaves_qty += qty
        if w != PENDING:
            o.where = PENDING
            self.pending.append(o)

    # ----------------------------------------------------------------- queries

    def depth(self, levels: int) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        """L2: the best `levels` bid and ask levels as (price, shown quantity, order count)."""
        return self.bids.depth(levels), self.asks.depth(levels)

    def open_orders(self) -> list[RestingOrder]:
        """Every open order (book, stops, held legs), oldest entry first."""
        orders = [*self.orders.values(), *self.stops.values(), *self.held.values()]
        orders.sort(key=entry_key)
        return orders


def entry_key(o: RestingOrder) -> tuple[int, str]:
    return (o.entry_seq, o.order_id)
