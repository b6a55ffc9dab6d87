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
- A paper order may carry its account's own slippage, size impact, latency and partial-fill
  schedule (`NewOrder.sim_*`); what it leaves unset is the configuration's.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import final

from matcher.engine.book import RestingOrder
from matcher.engine.emit import (
    closed_event,
    replace_refused_event,
    replaced_event,
    triggered_event,
)
from matcher.engine.market import Market
from matcher.engine.walk import MICRO, bridge_spreads, walk_micro
from shared.domain import reasons
from shared.domain.codes import DAY, FILLED, FOK, GTD, HALTED, IOC, MAKER, PARTIALLY_FILLED, TAKER
from shared.domain.commands import NewOrder, ReplaceOrder, SetReferencePrices
from shared.domain.events import Event, OrderFilled
from shared.domain.order_rules import (
    has_stop_price,
    new_order_problem,
    replace_problem,
    works_as_market,
)


@final
class SimulatorConfig:
    """How the simulated market behaves. All integers (ticks, lots, ns, cbps)."""

    def __init__(
        self,
        seed: int = 0,
        start_price: int = 10_000,
        step_ns: int = 1_000_000_000,
        step_ticks: int = 1,
        slippage_cbps: int = 0,
        impact_cbps_per_lot: int = 0,
        latency_ns: int = 0,
        fill_ratio_pct: int = 100,
        fill_interval_ns: int = 0,
        maker_fee_cbps: int = 0,
        taker_fee_cbps: int = 0,
        prices: list[tuple[int, int]] | None = None,
    ) -> None:
        if not 1 <= fill_ratio_pct <= 100:
            raise ValueError("fill_ratio_pct must be within 1..100")
        if step_ns <= 0 or start_price <= 0:
            raise ValueError("step_ns and start_price must be positive")
        self.seed = seed
        self.start_price = start_price
        self.step_ns = step_ns
        self.step_ticks = step_ticks
        self.slippage_cbps = slippage_cbps
        self.impact_cbps_per_lot = impact_cbps_per_lot
        self.latency_ns = latency_ns
        self.fill_ratio_pct = fill_ratio_pct
        self.fill_interval_ns = fill_interval_ns
        self.maker_fee_cbps = maker_fee_cbps
        self.taker_fee_cbps = taker_fee_cbps
        self.prices: list[tuple[int, int]] = sorted(prices) if prices else []
        self.spreads = bridge_spreads(step_ticks)

    def to_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "start_price": self.start_price,
            "step_ns": self.step_ns,
            "step_ticks": self.step_ticks,
            "slippage_cbps": self.slippage_cbps,
            "impact_cbps_per_lot": self.impact_cbps_per_lot,
            "latency_ns": self.latency_ns,
            "fill_ratio_pct": self.fill_ratio_pct,
            "fill_interval_ns": self.fill_interval_ns,
            "maker_fee_cbps": self.maker_fee_cbps,
            "taker_fee_cbps": self.taker_fee_cbps,
            "prices": [[t, p] for t, p in self.prices],
        }

    @staticmethod
    def from_dict(data: dict[str, object]) -> SimulatorConfig:
        raw_prices = data.get("prices") or []
        assert isinstance(raw_prices, list)
        return SimulatorConfig(
            int(str(data["seed"])),
            int(str(data["start_price"])),
            int(str(data["step_ns"])),
            int(str(data["step_ticks"])),
            int(str(data["slippage_cbps"])),
            int(str(data["impact_cbps_per_lot"])),
            int(str(data["latency_ns"])),
            int(str(data["fill_ratio_pct"])),
            int(str(data["fill_interval_ns"])),
            int(str(data["maker_fee_cbps"])),
            int(str(data["taker_fee_cbps"])),
            [(int(p[0]), int(p[1])) for p in raw_prices],
        )


@final
class FillSimulator(Market):
    """Paper orders of one instrument against its simulated reference price."""

    def __init__(self, symbol: str, config: SimulatorConfig) -> None:
        super().__init__(symbol)
        self.config = config
        self.halted = False
        self.orders: dict[str, RestingOrder] = {}  # working paper orders, in entry order
        self.next_fill: dict[str, int] = {}  # order id -> earliest ts of its next fill step
        self.triggered: set[str] = set()  # stop orders whose stop price was reached
        self.anchor_step = -1  # the walk's step where it equals start_price (-1: not yet)
        self.anchor_micro = 0  # W(anchor_step)
        self.memo_step = -1  # the last step evaluated and its W: a cache, not state
        self.memo_micro = 0
        # order id -> its own (slippage, impact, latency, fill ratio, fill interval), for the
        # orders placed with settings of their account (`NewOrder.sim_*`)
        self.knobs: dict[str, tuple[int, int, int, int, int]] = {}

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

    def arrival(self, ts: int) -> tuple[int, int, int, int]:
        """Paper orders meet no book: only the reference price at `ts`."""
        return (0, 0, 0, self.reference_price(ts))

    def _own_knobs(self, c: NewOrder) -> tuple[int, int, int, int, int] | None:
        """The order's own settings over the configuration's; None: it has none."""
        cfg = self.config
        slip, impact, latency = c.sim_slippage_cbps, c.sim_impact_cbps_per_lot, c.sim_latency_ns
        ratio, interval = c.sim_fill_ratio_pct, c.sim_fill_interval_ns
        if slip < 0 and impact < 0 and latency < 0 and ratio <= 0 and interval < 0:
            return None
        return (
            slip if slip >= 0 else cfg.slippage_cbps,
            impact if impact >= 0 else cfg.impact_cbps_per_lot,
            latency if latency >= 0 else cfg.latency_ns,
            ratio if 1 <= ratio <= 100 else cfg.fill_ratio_pct,
            interval if interval >= 0 else cfg.fill_interval_ns,
        )

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

    def _slipped(self, ref: int, is_buy: bool, qty: int, slip_cbps: int, impact: int) -> int:
        rate = slip_cbps + impact * qty
        slip = ref * rate
        if is_buy:
            return ref + (slip + 999_999) // 1_000_000
        return max(1, ref - slip // 1_000_000)

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
        step = c.ts // c.step_ns
        self.memo_step = step
        self.memo_micro = walk_micro(c.seed, cfg.spreads, step)
        self.anchor_step = step
        self.anchor_micro = self.memo_micro
        return cfg.start_price

    # ----------------------------------------------------------------- commands

    def _stop_waiting(self, o: RestingOrder) -> bool:
        return has_stop_price(o.order_type) and o.order_id not in self.triggered

    def new_order(self, c: NewOrder, out: list[Event]) -> None:
        self.advance(c.ts, out)
        reason = new_order_problem(c, self.halted, c.order_id in self.orders)
        ref = self.reference_price(c.ts) if not reason else 0  # (rejected: no anchoring)
        if not self._answer_new(c, reason, out, ref=ref):
            return
        o = RestingOrder.accepted(c, self.seq)
        self.orders[o.order_id] = o
        own = self._own_knobs(c)
        if own is not None:
            self.knobs[o.order_id] = own
        self.next_fill[o.order_id] = c.ts + (self.config.latency_ns if own is None else own[2])
        self._work(o, c.ts, self.reference_price(c.ts), out)

    def cancel(self, order_id: str, account_id: str, ts: int, out: list[Event]) -> None:
        self.advance(ts, out)
        o = self._cancel_target(self.orders.get(order_id), order_id, account_id, ts, out)
        if o is not None:
            self._close(o, ts, reasons.CANCELED_BY_CLIENT, False, out)

    def replace(self, c: ReplaceOrder, out: list[Event]) -> None:
        self.advance(c.ts, out)
        o = self._replace_target(self.orders.get(c.order_id), c, out)
        if o is None:
            return
        new_qty = c.quantity if c.quantity > 0 else o.quantity
        reason = replace_problem(
            o.order_type,
            o.cum_qty,
            new_qty,
            c.price > 0,
            c.stop_price > 0,
            self._stop_waiting(o),
        )
        seq = self._next_event(o)
        if reason:
            out.append(replace_refused_event(self.symbol, seq, c.ts, o, reason))
            return
        kept = (c.price == 0 or c.price == o.price) and new_qty <= o.quantity
        o.quantity = new_qty
        o.leaves_qty = new_qty - o.cum_qty
        if c.price > 0:
            o.price = c.price
        if c.stop_price > 0:
            o.stop_price = c.stop_price
        out.append(replaced_event(self.symbol, seq, c.ts, o, kept, c.client_order_id))
        self._work(o, c.ts, self.reference_price(c.ts), out)

    def cancel_all(self, account_id: str, ts: int, reason: str, out: list[Event]) -> None:
        self.advance(ts, out)
        for o in list(self.orders.values()):
            if not account_id or o.account_id == account_id:
                self._close(o, ts, reason, False, out)

    def expire(self, ts: int, end_of_day: bool, out: list[Event]) -> None:
        self.advance(ts, out)
        for o in list(self.orders.values()):
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

    # ----------------------------------------------------------------- fills

    def advance(self, ts: int, out: list[Event]) -> None:
        """Let every working order meet the market as it is at `ts`, oldest first."""
        if not self.orders:
            return
        ref = self.reference_price(ts)
        for o in list(self.orders.values()):
            self._work(o, ts, ref, out)

    def _work(self, o: RestingOrder, ts: int, ref: int, out: list[Event]) -> None:
        if o.time_in_force == GTD and o.expire_at <= ts:
            self._close(o, ts, reasons.EXPIRED_GTD, True, out)  # its time ran out first
            return
        if self.next_fill[o.order_id] > ts:
            return
        if self._stop_waiting(o):
            if not (ref >= o.stop_price if o.is_buy else ref <= o.stop_price):
                return
            self.triggered.add(o.order_id)
            seq = self._next_event(o)
            out.append(triggered_event(self.symbol, seq, ts, o, ref, (0, 0, 0, ref)))
        is_market = works_as_market(o.order_type)
        slip_cbps, impact, _, ratio, interval = self._knobs_of(o)
        step = o.leaves_qty
        if o.time_in_force != FOK:
            step = min(o.leaves_qty, max(1, o.quantity * ratio // 100))
        px = self._slipped(ref, o.is_buy, step, slip_cbps, impact)
        liquidity = TAKER
        if not is_market:
            within = px <= o.price if o.is_buy else px >= o.price
            if not within:
                ref_within = ref <= o.price if o.is_buy else ref >= o.price
                if ref_within:
                    px = o.price
                    liquidity = MAKER
                else:
                    px = 0
        if px > 0:
            self._fill(o, ts, step, px, liquidity, interval, out)
        if o.leaves_qty == 0:
            return
        if o.time_in_force == IOC or o.time_in_force == FOK:
            reason = reasons.FOK_NOT_FILLABLE if o.time_in_force == FOK else reasons.IOC_REMAINDER
            self._close(o, ts, reason, False, out)

    def _fill(
        self,
        o: RestingOrder,
        ts: int,
        qty: int,
        px: int,
        liquidity: str,
        interval: int,
        out: list[Event],
    ) -> None:
        cfg = self.config
        rate = cfg.maker_fee_cbps if liquidity == MAKER else cfg.taker_fee_cbps
        o.leaves_qty -= qty
        o.cum_qty += qty
        seq = self._next_event(o)
        out.append(
            OrderFilled(
                self.symbol,
                seq,
                ts,
                o.order_id,
                o.account_id,
                o.order_seq,
                FILLED if o.leaves_qty == 0 else PARTIALLY_FILLED,
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
        self.next_fill[o.order_id] = ts + interval
        if o.leaves_qty == 0:
            self._forget(o)

    def _close(
        self, o: RestingOrder, ts: int, reason: str, expired: bool, out: list[Event]
    ) -> None:
        canceled = o.leaves_qty
        o.leaves_qty = 0
        out.append(closed_event(self.symbol, self._next_event(o), ts, o, canceled, reason, expired))
        self._forget(o)

    def _forget(self, o: RestingOrder) -> None:
        del self.orders[o.order_id]
        del self.next_fill[o.order_id]
        self.triggered.discard(o.order_id)
        self.knobs.pop(o.order_id, None)

    # ----------------------------------------------------------------- state

    def snapshot(self) -> dict[str, object]:
        rows: list[list[object]] = []
        for o in self.orders.values():
            row = [*o.to_row(), self.next_fill[o.order_id], o.order_id in self.triggered]
            own = self.knobs.get(o.order_id)
            if own is not None:  # only then: a snapshot without own settings is as it was
                row.append(list(own))
            rows.append(row)
        return {
            "config": self.config.to_dict(),
            "halted": self.halted,
            "anchor_step": self.anchor_step,
            "anchor_micro": self.anchor_micro,
            "orders": rows,
        }

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
        for r in rows:
            o = RestingOrder.from_row(r)
            sim.orders[o.order_id] = o
            sim.next_fill[o.order_id] = int(r[14])
            if r[15]:
                sim.triggered.add(o.order_id)
            if len(r) > 16 and r[16]:  # its own settings (rows of older snapshots lack them)
                k = [int(v) for v in r[16]]
                sim.knobs[o.order_id] = (k[0], k[1], k[2], k[3], k[4])
        return sim
