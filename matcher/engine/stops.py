"""Stop orders of the matching engine: parked stops in trigger order, trailing stops that
follow the trades, and what happens when a matching step ends (the legs it released are
worked, then the stops its last trade reached trigger, one at a time).

Parked stops sit in two heaps in trigger order (buys by stop price, sells by stop price
highest first, then priority), with lazy deletion: a key whose order left or moved (a
trailing stop) is stale, skipped when it comes up and swept when most are stale, so a
trailing stop moves in O(log n). A trailing stop with no stop yet (no trade to trail) is in
no heap.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush

from matcher.engine.contingent import ContingentMarket
from matcher.engine.emit import trailing_moved_event, triggered_event
from matcher.engine.working import IN_HAND, PARKED, RestingOrder
from shared.domain.events import Event
from shared.domain.order_rules import trailing_stop_price, waits_for_trigger

StopKey = tuple[int, int, str]


class StopsMarket(ContingentMarket):
    """The stops of one instrument's book; the book itself is `BookMarket`'s (matching.py)."""

    def __init__(self, symbol: str) -> None:
        super().__init__(symbol)
        self.last_px = 0
        self.stops: dict[str, RestingOrder] = {}  # stop orders waiting for their trigger
        self.buy_stops: list[StopKey] = []  # heap of (stop px, entry seq, id)
        self.sell_stops: list[StopKey] = []  # heap of (-stop px, entry seq, id)
        self.trailing: list[RestingOrder] = []  # parked trailing stops, in parking order

    def _execute(self, o: RestingOrder, ts: int, out: list[Event]) -> None:
        """Work an order against the book (a matching step): `BookMarket`'s."""
        raise NotImplementedError

    def _work_released(self, o: RestingOrder, ts: int, out: list[Event]) -> None:
        """A leg released during the step that just ended: it rests or matches (a
        take-profit, a triggered stop-limit), or is parked or triggers (a stop-loss)."""
        o.where = IN_HAND
        if o.triggered or not waits_for_trigger(o.order_type):
            o.triggered = False
            self._execute(o, ts, out)
            return
        if (o.trail_amount or o.trail_cbps) and o.hwm == 0:
            before = o.stop_price
            self._start_trailing(o, self.last_px)
            if o.stop_price != before:
                out.append(trailing_moved_event(self.symbol, self._next_event(o), ts, o))
        if self._stop_reached(o):
            self._trigger(o, ts, out)
        else:
            self._park(o)

    def _stop_reached(self, o: RestingOrder) -> bool:
        last = self.last_px
        if last == 0 or o.stop_price == 0:
            return False
        return last >= o.stop_price if o.is_buy else last <= o.stop_price

    def _park(self, o: RestingOrder) -> None:
        o.entry_seq = self._next_entry()
        o.where = PARKED
        self.stops[o.order_id] = o
        if o.trail_amount or o.trail_cbps:
            self.trailing.append(o)
        if o.stop_price > 0:
            self._list_stop(o)

    def _list_stop(self, o: RestingOrder) -> None:
        if o.is_buy:
            heappush(self.buy_stops, (o.stop_price, o.entry_seq, o.order_id))
        else:
            heappush(self.sell_stops, (-o.stop_price, o.entry_seq, o.order_id))

    def _unlist_stop(self, o: RestingOrder) -> None:
        """`o`'s key goes stale (lazily); the heaps are swept when mostly stale."""
        if len(self.buy_stops) + len(self.sell_stops) > 2 * len(self.stops) + 64:
            self._sweep_stops()

    def _sweep_stops(self) -> None:
        self.buy_stops = [k for k in self.buy_stops if self._listed(k, True)]
        self.sell_stops = [k for k in self.sell_stops if self._listed(k, False)]
        heapify(self.buy_stops)
        heapify(self.sell_stops)

    def _listed(self, key: StopKey, buy: bool) -> bool:
        """The key is the current one of a parked stop."""
        o = self.stops.get(key[2])
        if o is None or o.entry_seq != key[1]:
            return False
        return o.stop_price == key[0] if buy else o.stop_price == -key[0]

    def _next_stop(
        self, heap: list[tuple[int, int, str]], buy: bool
    ) -> tuple[int, int, str] | None:
        """The current key at the top of a stop heap (stale ones dropped), or None."""
        while heap:
            key = heap[0]
            if self._listed(key, buy):
                return key
            heappop(heap)
        return None

    def parked_in_order(self, buys: bool) -> list[RestingOrder]:
        """A side's parked stops that have a stop price, in trigger order."""
        heap = self.buy_stops if buys else self.sell_stops
        return [self.stops[k[2]] for k in sorted(heap) if self._listed(k, buys)]

    def _unpark(self, o: RestingOrder) -> None:
        del self.stops[o.order_id]
        if o.trail_amount or o.trail_cbps:
            self.trailing.remove(o)
        if o.stop_price > 0:
            self._unlist_stop(o)

    def _trigger(self, o: RestingOrder, ts: int, out: list[Event]) -> None:
        seq = self._next_event(o)
        out.append(triggered_event(self.symbol, seq, ts, o, self.last_px, self.arrival(ts)))
        self._execute(o, ts, out)

    def _settle(self, ts: int, out: list[Event]) -> None:
        """After a step: work the legs it released, then trigger every stop the last trade
        price reached, cascading, in stop-price order (each its own step)."""
        while True:
            if self.pending:
                self._work_released(self.pending.pop(0), ts, out)
                continue
            last = self.last_px
            if last == 0:
                return
            key = self._next_stop(self.buy_stops, True)
            if key is not None and key[0] <= last:
                heappop(self.buy_stops)
            else:
                key = self._next_stop(self.sell_stops, False)
                if key is None or -key[0] < last:
                    return
                heappop(self.sell_stops)
            o = self.stops.pop(key[2])
            if o.trail_amount or o.trail_cbps:
                self.trailing.remove(o)
            o.where = IN_HAND
            self._trigger(o, ts, out)

    def _follow(self, first_px: int, ts: int, out: list[Event]) -> None:
        """Trailing stops follow the step's trades (from `first_px` to the last price, one
        way: a step walks the book): a sell's high-water mark takes the highest, a buy's
        the lowest; TrailingStopMoved when its stop moves."""
        last = self.last_px
        high = first_px if first_px > last else last
        low = first_px if first_px < last else last
        for o in self.trailing:
            hwm = o.hwm
            if o.is_buy:
                if hwm != 0 and low >= hwm:
                    continue
                hwm = low
            else:
                if high <= hwm:
                    continue
                hwm = high
            o.hwm = hwm
            stop = trailing_stop_price(o.is_buy, hwm, o.trail_amount, o.trail_cbps)
            if stop == o.stop_price:
                continue
            if o.stop_price > 0:
                self._unlist_stop(o)
            o.stop_price = stop
            self._list_stop(o)
            out.append(trailing_moved_event(self.symbol, self._next_event(o), ts, o))
