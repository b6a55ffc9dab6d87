"""The fill simulator: paper orders filled against a simulated market, deterministically.

The reference price is a seeded random walk with one step every `step_ns` (Gaussian steps
of `step_ticks` standard deviation), or a replayed list of (ts, price) points. The walk is
built as a Brownian bridge over the step index, so its value at any time is a pure function
of (seed, anchor, ts): no hidden cursor, nothing that depends on which commands happened to
look at the price. The anchor (where the walk equals `start_price`) is the time of the first
paper order, which is journaled, so replays and restores see the same market. Time only moves
with commands: every command first lets the market catch up to its timestamp.

Fill rules (prices in ticks, quantities in lots):
- Nothing fills before `accepted ts + latency_ns`.
- A market order (or a triggered stop) fills at reference +/- slippage, where slippage is
  `slippage_cbps` plus `impact_cbps_per_lot` per lot of the fill, in hundredths of a bp of
  the reference price (rounded against the trader). Liquidity: taker.
- A limit order (or a triggered stop-limit) fills when the reference price reaches it: at
  the slipped reference price if that is within the limit (taker), else at the limit
  (maker) when the reference itself is within the limit.
- Stops trigger when the reference reaches the stop price (buy: ref >= stop; sell: ref <= stop).
- Partial fills: each fill step takes `fill_ratio_pct` of the order quantity (at least 1
  lot), steps at least `fill_interval_ns` apart. FOK fills all at once or is canceled;
  IOC takes one step, then its remainder is canceled.
- Trailing stops trail the reference price (it plays the last trade): the high-water mark
  starts at the reference when the order goes live and follows it at every command.
- Post-only: rejected when the reference already reaches its limit at acceptance (or at a
  replace's new limit); it fills only as maker, at its limit. An iceberg's display
  quantity changes nothing here (there is no book to show): it is checked and kept.
- Contingent groups, reduce-only orders and STP decrement follow the engine's rules with the
  same events (matcher.engine.contingent); a leg released by its entry's fill works in the
  same command, right after the entry. Paper orders never meet each other, so no self-trade.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import final

from matcher.engine.contingent import ContingentMarket
from matcher.engine.emit import (
    replace_refused_event,
    replaced_event,
    trailing_moved_event,
    triggered_event,
)
from matcher.engine.extra_state import extra_state, restore_extra_state
from matcher.engine.sim_config import SimulatorConfig
from matcher.engine.walk import MICRO, walk_micro
from matcher.engine.working import DONE, HELD, IN_BOOK, IN_HAND, PENDING, RestingOrder
from shared.domain import reasons
from shared.domain.codes import (
    BUY,
    DAY,
    FILLED,
    FOK,
    GTD,
    HALTED,
    IOC,
    MAKER,
    PARTIALLY_FILLED,
    TAKER,
    TRAILING_STOP,
)
from shared.domain.commands import ConfigureInstrument, NewOrder, NewOrderGroup, ReplaceOrder
from shared.domain.events import Event, OrderFilled
from shared.domain.order_rules import (
    new_order_problem,
    replace_problem,
    trailing_stop_price,
    waits_for_trigger,
    works_as_market,
)

__all__ = ["FillSimulator", "SimulatorConfig"]


@final
class FillSimulator(ContingentMarket):
    """Paper orders of one instrument against its simulated reference price."""

    def __init__(self, symbol: str, config: SimulatorConfig) -> None:
        super().__init__(symbol)
        self.config = config
        self.halted = False
        self.orders: dict[
            str, RestingOrder
        ] = {}  # open paper orders (held legs too), in entry order
        self.next_fill: dict[str, int] = {}  # order id -> earliest ts of its next fill step
        self.triggered: set[str] = set()  # stop orders whose stop price was reached
        self.anchor_step = -1  # the walk's step where it equals start_price (-1: not yet)
        self.anchor_micro = 0  # W(anchor_step)
        self.memo_step = -1  # the last step evaluated and its W: a cache, not state
        self.memo_micro = 0

    # ----------------------------------------------------------------- market

    def reference_price(self, ts: int) -> int:
        """The simulated market price at `ts` (the first call fixes the walk's anchor)."""
        cfg = self.config
        if cfg.prices:
            i = bisect_right(cfg.prices, (ts, 1 << 62))
            return cfg.prices[i - 1][1] if i > 0 else cfg.start_price
        step = ts // cfg.step_ns
        if step != self.memo_step:
            self.memo_step = step
            self.memo_micro = walk_micro(cfg.seed, cfg.spreads, step)
        if self.anchor_step < 0:
            self.anchor_step = step
            self.anchor_micro = self.memo_micro
            return cfg.start_price
        moved = self.memo_micro - self.anchor_micro
        price = cfg.start_price + (moved + MICRO // 2) // MICRO
        return price if price > 1 else 1

    def _slipped(self, ref: int, is_buy: bool, qty: int) -> int:
        cfg = self.config
        rate = cfg.slippage_cbps + cfg.impact_cbps_per_lot * qty
        slip = ref * rate
        if is_buy:
            return ref + (slip + 999_999) // 1_000_000
        return max(1, ref - slip // 1_000_000)

    # ----------------------------------------------------------------- commands

    def _stop_waiting(self, o: RestingOrder) -> bool:
        return waits_for_trigger(o.order_type) and o.order_id not in self.triggered

    def _has(self, order_id: str) -> bool:
        return order_id in self.orders

    def _live_orders(self) -> list[RestingOrder]:
        return list(self.orders.values())

    def _post_only_takes(self, c: NewOrder) -> bool:
        ref = self.reference_price(c.ts)
        return ref <= c.price if c.side == BUY else ref >= c.price

    def new_order(self, c: NewOrder, out: list[Event]) -> None:
        ts = c.ts
        self.advance(ts, out)
        reason = new_order_problem(c, self.halted, c.order_id in self.orders)
        if not reason and (c.post_only or c.reduce_only):
            if c.post_only and self._post_only_takes(c):
                reason = reasons.POST_ONLY_WOULD_TAKE
            elif c.reduce_only:
                reason = self._reduce_only_refusal(c.side, c.quantity, c.account_id, out)
        trailing = c.order_type == TRAILING_STOP
        if trailing and not reason:
            ref = self.reference_price(ts)
            first_stop = trailing_stop_price(c.side == BUY, ref, c.trail_amount, c.trail_cbps)
            if not self._answer_new(c, reason, out, 0, first_stop):
                return
        elif not self._answer_new(c, reason, out):
            return
        o = RestingOrder.accepted(c, self.seq)
        self._enter(o, ts)
        ref = self.reference_price(ts)
        if trailing:
            self._start_trailing(o, ref)
        if o.reduce_only:
            self._add_reduce_only(o, out)
        elif self.running and o.account_id in self.running:
            o.linked = True  # its account's reduce-only orders follow its fills
        self._work(o, ts, ref, out)
        self._settle(ts, ref, out, None)

    def new_group(self, g: NewOrderGroup, out: list[Event]) -> None:
        """A contingent group of paper orders, accepted or rejected whole."""
        if not g.orders:
            return
        ts = g.ts
        self.advance(ts, out)
        at, reason = self._group_refusal(g, self.halted)
        if reason:
            self._reject_group(g, at, reason, out)
            return
        ref = self.reference_price(ts)
        members = self._accept_group(g, out, ref)
        for o in members:
            self._enter(o, ts)
        live = [o for o in members if o.where == IN_BOOK]  # (not the legs its fills release)
        for o in live:
            if o.where == IN_BOOK:  # (an OCO sibling's fill may end it)
                self._work(o, ts, ref, out)
        self._settle(ts, ref, out, None)

    def _enter(self, o: RestingOrder, ts: int) -> None:
        """An accepted order joins the working paper orders (a held leg as held)."""
        if o.where != HELD:
            o.where = IN_BOOK
        self.orders[o.order_id] = o
        self.next_fill[o.order_id] = ts + self.config.latency_ns

    def cancel(self, order_id: str, account_id: str, ts: int, out: list[Event]) -> None:
        self.advance(ts, out)
        o = self._cancel_target(self.orders.get(order_id), order_id, account_id, ts, out)
        if o is not None:
            self._close(o, ts, reasons.CANCELED_BY_CLIENT, False, out)

    def replace(self, c: ReplaceOrder, out: list[Event]) -> None:
        ts = c.ts
        self.advance(ts, out)
        o = self._replace_target(self.orders.get(c.order_id), c, out)
        if o is None:
            return
        new_qty = c.quantity if c.quantity > 0 else o.quantity
        reason = replace_problem(
            o.order_type,
            o.quantity - o.leaves_qty - o.held_qty,
            new_qty,
            c.price > 0,
            c.stop_price > 0,
            self._stop_waiting(o),
            o.leg,
            new_qty != o.quantity,
            c.trail_amount,
            c.trail_cbps,
        )
        ref = self.reference_price(ts)
        moves_price = c.price > 0 and c.price != o.price
        takes = ref <= c.price if o.is_buy else ref >= c.price
        if not reason and o.post_only and moves_price and takes:
            reason = reasons.POST_ONLY_WOULD_TAKE
        if not reason and o.reduce_only and new_qty > o.quantity:
            reason = self._reduce_only_refusal(o.side, new_qty - o.quantity, o.account_id, out)
        seq = self._next_event(o)
        if reason:
            out.append(replace_refused_event(self.symbol, seq, ts, o, reason))
            return
        kept = (c.price == 0 or c.price == o.price) and new_qty <= o.quantity
        delta = new_qty - o.quantity
        o.quantity = new_qty
        o.leaves_qty += delta
        if c.price > 0:
            o.price = c.price
        if c.stop_price > 0:
            o.stop_price = c.stop_price
        if c.trail_amount or c.trail_cbps:
            o.trail_amount = c.trail_amount
            o.trail_cbps = c.trail_cbps
            o.stop_price = trailing_stop_price(o.is_buy, o.hwm, o.trail_amount, o.trail_cbps)
        out.append(replaced_event(self.symbol, seq, ts, o, kept, c.client_order_id))
        self._legs_follow(o, delta, ts, out)
        if o.where == IN_BOOK:
            self._work(o, ts, ref, out)
        self._settle(ts, ref, out, None)

    def cancel_all(self, account_id: str, ts: int, reason: str, out: list[Event]) -> None:
        self.advance(ts, out)
        for o in list(self.orders.values()):
            if o.where != DONE and (not account_id or o.account_id == account_id):
                self._close(o, ts, reason, False, out, False)

    def expire(self, ts: int, end_of_day: bool, out: list[Event]) -> None:
        self.advance(ts, out)
        for o in list(self.orders.values()):
            if o.where == DONE:
                continue  # (a group rule ended it already)
            if o.time_in_force == GTD and o.expire_at <= ts:
                self._close(o, ts, reasons.EXPIRED_GTD, True, out)
            elif end_of_day and o.time_in_force == DAY:
                self._close(o, ts, reasons.EXPIRED_DAY, True, out)

    def set_trading_state(self, state: str, ts: int, out: list[Event]) -> None:
        """Halted: paper orders are refused and the working ones canceled. The engine reports
        the state change (TradingStateChanged), once for the instrument."""
        self.halted = state == HALTED
        if self.halted:
            self.cancel_all("", ts, reasons.CANCELED_BY_HALT, out)

    def configure(self, c: ConfigureInstrument, out: list[Event]) -> None:
        """New fees for paper fills from now on (the engine reports InstrumentConfigured)."""
        self.config.maker_fee_cbps = c.maker_fee_cbps
        self.config.taker_fee_cbps = c.taker_fee_cbps

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
            out.append(triggered_event(self.symbol, self._next_event(o), ts, o, ref))
        is_market = works_as_market(o.order_type)
        step = o.leaves_qty
        if o.time_in_force != FOK:
            step = min(o.leaves_qty, max(1, o.quantity * self.config.fill_ratio_pct // 100))
        px = self._slipped(ref, o.is_buy, step)
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
        self.next_fill[o.order_id] = ts + cfg.fill_interval_ns
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
        o.leaves_qty = 0
        o.where = DONE

    def _grow_live(self, o: RestingOrder, qty: int) -> None:
        o.held_qty -= qty
        o.leaves_qty += qty
        if o.where != PENDING:
            o.where = PENDING
            self.pending.append(o)

    # ----------------------------------------------------------------- state

    def snapshot(self) -> dict[str, object]:
        rows = []
        for o in self.orders.values():
            row = o.to_row()
            extras = row.pop() if isinstance(row[-1], dict) else None
            row += [self.next_fill[o.order_id], o.order_id in self.triggered]
            if extras is not None:
                row.append(extras)
            rows.append(row)
        data: dict[str, object] = {
            "config": self.config.to_dict(),
            "halted": self.halted,
            "anchor_step": self.anchor_step,
            "anchor_micro": self.anchor_micro,
            "orders": rows,
        }
        data.update(extra_state({}, self.reduce_only))
        return data

    @staticmethod
    def restore(symbol: str, seq: int, data: dict[str, object]) -> FillSimulator:
        config = data["config"]
        assert isinstance(config, dict)
        sim = FillSimulator(symbol, SimulatorConfig.from_dict(config))
        sim.seq = seq
        sim.halted = bool(data["halted"])
        sim.anchor_step = int(str(data["anchor_step"]))
        sim.anchor_micro = int(str(data["anchor_micro"]))
        rows = data["orders"]
        assert isinstance(rows, list)
        restored: list[RestingOrder] = []
        for r in rows:
            o = RestingOrder.from_row(r)
            o.where = HELD if o.leaves_qty == 0 and o.held_qty > 0 else IN_BOOK
            sim.orders[o.order_id] = o
            sim.next_fill[o.order_id] = int(r[14])
            if r[15]:
                sim.triggered.add(o.order_id)
            restored.append(o)
        restore_extra_state(sim.reduce_only, restored, data)
        return sim
