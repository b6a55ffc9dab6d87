"""The fill simulator: paper orders filled against a simulated market, deterministically.

The reference price is a seeded random walk or a replayed list of (ts, price) points
(`matcher.engine.walk`); time only moves with commands: every command first lets the market
catch up to its timestamp, then applies (`matcher.engine.paper` has the fill rules).

The simulator takes every order the engine takes, with the same events: contingent groups,
reduce-only orders and their trims follow the same rules (`matcher.engine.contingent`). A
post-only order the reference already reaches is rejected (at a replace's new limit too); an
iceberg's display quantity changes nothing here (there is no book to show): it is checked
and kept. Paper orders never meet each other, so no self-trade (STP modes are kept).
"""

from __future__ import annotations

from typing import final

from matcher.engine.emit import replace_refused_event, replaced_event
from matcher.engine.extra_state import extra_state, restore_extra_state
from matcher.engine.paper import PaperMarket
from matcher.engine.sim_config import SimulatorConfig
from matcher.engine.walk import bridge_spreads, walk_micro
from matcher.engine.working import DONE, HELD, IN_BOOK, RestingOrder
from shared.domain import reasons
from shared.domain.codes import BUY, DAY, GTD, HALTED, TRAILING_STOP
from shared.domain.commands import (
    ConfigureInstrument,
    NewOrder,
    NewOrderGroup,
    ReplaceOrder,
    SetReferencePrices,
)
from shared.domain.events import Event
from shared.domain.order_rules import new_order_problem, replace_problem, trailing_stop_price

__all__ = ["FillSimulator", "SimulatorConfig"]


@final
class FillSimulator(PaperMarket):
    """Paper orders of one instrument against its simulated reference price."""

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
        arrived = self.reference_price(ts) if not reason else 0  # (rejected: no anchoring)
        if trailing and not reason:
            first_stop = trailing_stop_price(c.side == BUY, arrived, c.trail_amount, c.trail_cbps)
            if not self._answer_new(c, reason, out, 0, first_stop, ref=arrived):
                return
        elif not self._answer_new(c, reason, out, ref=arrived):
            return
        o = RestingOrder.accepted(c, self.seq)
        self._enter(o, ts)
        self._take_knobs(c, o, ts)
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
        for c, o in zip(g.orders, members, strict=True):
            self._enter(o, ts)
            self._take_knobs(c, o, ts)
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

    def set_reference(self, c: SetReferencePrices) -> int:
        """A new reference price source from `c.ts` on (see SetReferencePrices); the walk is
        anchored there. Returns the price it starts at."""
        now = self.reference_price(c.ts)
        cfg = self.config
        cfg.start_price = c.start_price if c.start_price > 0 else now
        if c.source == "file":
            cfg.prices = sorted((int(p[0]), int(p[1])) for p in c.prices)
            return cfg.start_price
        cfg.prices = []
        cfg.seed = c.seed
        cfg.step_ticks = c.step_ticks
        cfg.step_ns = c.step_ns
        cfg.spreads = bridge_spreads(c.step_ticks)
        walk, step = self.walk, c.ts // c.step_ns
        walk.memo_step = step
        walk.memo_micro = walk_micro(c.seed, cfg.spreads, step)
        walk.anchor_step = step
        walk.anchor_micro = walk.memo_micro
        return cfg.start_price

    def configure(self, c: ConfigureInstrument, out: list[Event]) -> None:
        """New fees for paper fills from now on (the engine reports InstrumentConfigured)."""
        self.config.maker_fee_cbps = c.maker_fee_cbps
        self.config.taker_fee_cbps = c.taker_fee_cbps

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
            "anchor_step": self.walk.anchor_step,
            "anchor_micro": self.walk.anchor_micro,
            "orders": rows,
        }
        data.update(extra_state({}, self.reduce_only))
        if self.knobs:  # only then: a snapshot without own settings is as it was
            data["knobs"] = {oid: list(k) for oid, k in self.knobs.items()}
        return data

    @staticmethod
    def restore(symbol: str, seq: int, data: dict[str, object]) -> FillSimulator:
        config = data["config"]
        assert isinstance(config, dict)
        sim = FillSimulator(symbol, SimulatorConfig.from_dict(config))
        sim.seq = seq
        sim.halted = bool(data["halted"])
        sim.walk.anchor_step = int(str(data["anchor_step"]))
        sim.walk.anchor_micro = int(str(data["anchor_micro"]))
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
        knobs = data.get("knobs")
        if isinstance(knobs, dict):  # orders' own settings (older snapshots have none)
            for oid, k in knobs.items():
                sim.knobs[str(oid)] = (int(k[0]), int(k[1]), int(k[2]), int(k[3]), int(k[4]))
        return sim
