"""The paper market's mechanics: its working orders meeting the simulated reference price,
fill step by fill step, deterministically. `FillSimulator` (simulator.py) turns commands
into these steps.

Fill rules (prices in ticks, quantities in lots):
- Nothing fills before `accepted ts + latency_ns`.
- A market order (or a triggered stop) fills at reference +/- slippage, where slippage is
  `slippage_cbps` plus `impact_cbps_per_lot` per lot of the fill, in hundredths of a bp of
  the reference price (rounded against the trader). Liquidity: taker.
- A limit order (or a triggered stop-limit) fills when the reference price reaches it: at
  the slipped reference price if that is within the limit (taker), else at the limit
  (maker) when the reference itself is within the limit. A post-only order fills only at
  its limit, as maker.
- Stops trigger when the reference reaches the stop price (buy: ref >= stop; sell: ref <= stop).
- Trailing stops trail the reference price (it plays the last trade): the high-water mark
  starts at the reference when the order goes live and follows it at every command.
- Partial fills: each fill step takes `fill_ratio_pct` of the order quantity (at least 1
  lot), steps at least `fill_interval_ns` apart. FOK fills all at once or is canceled;
  IOC takes one step, then its remainder is canceled.
- A leg released by its entry's fill works in the same command, right after the entry.
- A paper order may carry its account's own slippage, size impact, latency and partial-fill
  schedule (`NewOrder.sim_*`); what it leaves unset is the configuration's.
"""

from __future__ import annotations

from matcher.engine.contingent import ContingentMarket
from matcher.engine.emit import trailing_moved_event, triggered_event
from matcher.engine.sim_config import SimulatorConfig, slipped_with
from matcher.engine.walk import ReferenceWalk
from matcher.engine.working import DONE, HELD, IN_BOOK, IN_HAND, PENDING, RestingOrder
from shared.domain import reasons
from shared.domain.codes import BUY, FILLED, FOK, GTD, IOC, MAKER, PARTIALLY_FILLED, TAKER
from shared.domain.commands import NewOrder
from shared.domain.events import Event, OrderFilled
from shared.domain.order_rules import trailing_stop_price, waits_for_trigger, works_as_market


class PaperMarket(ContingentMarket):
    """Paper orders of one instrument and their fills against its reference price."""

    def __init__(self, symbol: str, config: SimulatorConfig) -> None:
        super().__init__(symbol)
        self.config = config
        self.halted = False
        self.orders: dict[
            str, RestingOrder
        ] = {}  # open paper orders (held legs too), in entry order
        self.next_fill: dict[str, int] = {}  # order id -> earliest ts of its next fill step
        self.triggered: set[str] = set()  # stop orders whose stop price was reached
        self.walk = ReferenceWalk(config)
        # order id -> its own (slippage, impact, latency, fill ratio, fill interval), for the
        # orders placed with settings of their account (`NewOrder.sim_*`)
        self.knobs: dict[str, tuple[int, int, int, int, int]] = {}

    # ----------------------------------------------------------------- market

    def reference_price(self, ts: int) -> int:
        """The simulated market price at `ts` (the first call fixes the walk's anchor)."""
        return self.walk.price(ts)

    def arrival(self, ts: int) -> tuple[int, int, int, int]:
        """Paper orders meet no book: only the reference price at `ts`."""
        return (0, 0, 0, self.reference_price(ts))

    def _take_knobs(self, c: NewOrder, o: RestingOrder, ts: int) -> None:
        """Order `o` (accepted from `c`, entered at `ts`) keeps its own settings, if any."""
        cfg = self.config
        slip, impact, latency = c.sim_slippage_cbps, c.sim_impact_cbps_per_lot, c.sim_latency_ns
        ratio, interval = c.sim_fill_ratio_pct, c.sim_fill_interval_ns
        if slip < 0 and impact < 0 and latency < 0 and ratio <= 0 and interval < 0:
            return
        own = (
            slip if slip >= 0 else cfg.slippage_cbps,
            impact if impact >= 0 else cfg.impact_cbps_per_lot,
            latency if latency >= 0 else cfg.latency_ns,
            ratio if 1 <= ratio <= 100 else cfg.fill_ratio_pct,
            interval if interval >= 0 else cfg.fill_interval_ns,
        )
        self.knobs[o.order_id] = own
        self.next_fill[o.order_id] = ts + own[2]

    def _knobs_of(self, o: RestingOrder) -> tuple[int, int, int, int, int]:
        own = self.knobs.get(o.order_id)
        if own is not None:
            return own
        cfg = self.config
        return (
            cfg.slippage_cbps,
            cfg.impact_cbps_per_lot,
            cfg.latency_ns,
            cfg.fill_ratio_pct,
            cfg.fill_interval_ns,
        )

    def _stop_waiting(self, o: RestingOrder) -> bool:
        return waits_for_trigger(o.order_type) and o.order_id not in self.triggered

    def _has(self, order_id: str) -> bool:
        return order_id in self.orders

    def _live_orders(self) -> list[RestingOrder]:
        return list(self.orders.values())

    def _post_only_takes(self, c: NewOrder) -> bool:
        ref = self.reference_price(c.ts)
        return ref <= c.price if c.side == BUY else ref >= c.price

    # ----------------------------------------------------------------- fills

    def advance(self, ts: int, out: list[Event]) -> None:
        """Let every working order meet the market as it is at `ts`, oldest first (a leg
        released on the way works right after its entry, once)."""
        if not self.orders:
            return
        ref = self.reference_price(ts)
        worked: set[str] = set()
        for o in list(self.orders.values()):
            if o.where == IN_BOOK and o.order_id not in worked:
                self._work(o, ts, ref, out)
                if self.pending:
                    self._settle(ts, ref, out, worked)

    def _settle(self, ts: int, ref: int, out: list[Event], worked: set[str] | None) -> None:
        """Work the legs released since the last step, in release order."""
        while self.pending:
            o = self.pending.pop(0)
            o.where = IN_BOOK
            if worked is not None:
                worked.add(o.order_id)
            if (o.trail_amount or o.trail_cbps) and o.hwm == 0:
                before = o.stop_price
                self._start_trailing(o, ref)
                if o.stop_price != before:
                    out.append(trailing_moved_event(self.symbol, self._next_event(o), ts, o))
            self._work(o, ts, ref, out)

    def _work(self, o: RestingOrder, ts: int, ref: int, out: list[Event]) -> None:
        if o.time_in_force == GTD and o.expire_at <= ts:
            self._close(o, ts, reasons.EXPIRED_GTD, True, out)  # its time ran out first
            return
        if self.next_fill[o.order_id] > ts:
            return
        if self._stop_waiting(o):
            if o.trail_amount or o.trail_cbps:
                self._trail(o, ref, ts, out)
            if not (ref >= o.stop_price if o.is_buy else ref <= o.stop_price):
                return
            self.triggered.add(o.order_id)
            seq = self._next_event(o)
            out.append(triggered_event(self.symbol, seq, ts, o, ref, (0, 0, 0, ref)))
        is_market = works_as_market(o.order_type)
        slip_cbps, impact, _, ratio, _ = self._knobs_of(o)
        step = o.leaves_qty
        if o.time_in_force != FOK:
            step = min(o.leaves_qty, max(1, o.quantity * ratio // 100))
        px = slipped_with(slip_cbps, impact, ref, o.is_buy, step)
        liquidity = TAKER
        if not is_market:
            within = px <= o.price if o.is_buy else px >= o.price
            if not within or o.post_only:
                ref_within = ref <= o.price if o.is_buy else ref >= o.price
                if ref_within:
                    px = o.price
                    liquidity = MAKER
                else:
                    px = 0
        if px > 0:
            self._fill(o, ts, step, px, liquidity, out)
        if o.where != IN_BOOK or o.leaves_qty == 0:
            return
        if o.time_in_force == IOC or o.time_in_force == FOK:
            reason = reasons.FOK_NOT_FILLABLE if o.time_in_force == FOK else reasons.IOC_REMAINDER
            self._reduce(o, o.leaves_qty, reason, ts, out)

    def _trail(self, o: RestingOrder, ref: int, ts: int, out: list[Event]) -> None:
        """A trailing stop follows the reference price (its high-water mark)."""
        hwm = o.hwm
        if o.is_buy:
            if hwm != 0 and ref >= hwm:
                return
        elif ref <= hwm:
            return
        o.hwm = ref
        stop = trailing_stop_price(o.is_buy, ref, o.trail_amount, o.trail_cbps)
        if stop != o.stop_price:
            o.stop_price = stop
            out.append(trailing_moved_event(self.symbol, self._next_event(o), ts, o))

    def _fill(
        self, o: RestingOrder, ts: int, qty: int, px: int, liquidity: str, out: list[Event]
    ) -> None:
        cfg = self.config
        rate = cfg.maker_fee_cbps if liquidity == MAKER else cfg.taker_fee_cbps
        o.leaves_qty -= qty
        o.cum_qty += qty
        seq = self._next_event(o)
        done = o.leaves_qty == 0 and o.held_qty == 0
        out.append(
            OrderFilled(
                self.symbol,
                seq,
                ts,
                o.order_id,
                o.account_id,
                o.order_seq,
                FILLED if done else PARTIALLY_FILLED,
                o.side,
                qty,
                px,
                o.leaves_qty,
                o.cum_qty,
                liquidity,
                qty * px * rate,
                seq,
            )
        )
        self.next_fill[o.order_id] = ts + self._knobs_of(o)[4]
        if o.leaves_qty == 0:
            if done:
                self._drop(o)
            if o.linked:
                self._filled_out(o)
        if o.group is not None:
            self._group_fill(o, qty, ts, out)
        if o.linked:
            self._filled_for(o, qty, ts, out)

    # ----------------------------------------------------------------- contingent hooks

    def _cut_live(self, o: RestingOrder, qty: int) -> None:
        o.leaves_qty -= qty
        if o.leaves_qty == 0:
            if o.where == PENDING:
                self.pending.remove(o)
            o.where = IN_HAND

    def _hold(self, o: RestingOrder) -> None:
        o.where = HELD
        self.triggered.discard(o.order_id)
        if o.trail_amount or o.trail_cbps:
            o.hwm = 0  # it trails again from the reference when it is live again

    def _drop(self, o: RestingOrder) -> None:
        if o.where == PENDING:
            self.pending.remove(o)
        if o.order_id in self.orders:
            del self.orders[o.order_id]
            del self.next_fill[o.order_id]
        self.triggered.discard(o.order_id)
        self.knobs.pop(o.order_id, None)
        o.leaves_qty = 0
        o.where = DONE

    def _grow_live(self, o: RestingOrder, qty: int) -> None:
        o.held_qty -= qty
        o.leaves_qty += qty
        if o.where != PENDING:
            o.where = PENDING
            self.pending.append(o)
