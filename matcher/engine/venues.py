"""One instrument's venues: the matching engine and the paper fill simulator.

Paper orders (`NewOrder.venue == "paper"`) go to the simulator, the rest to the engine;
cancels and replaces follow the order. Both share the instrument's sequence, so every
event of the instrument has a unique, contiguous `seq`, and execution ids never collide.
"""

from __future__ import annotations

import hashlib
import json
from typing import final

from matcher.engine.book import RestingOrder
from matcher.engine.engine import MatchingEngine
from matcher.engine.shadow import ShadowMarket
from matcher.engine.simulator import FillSimulator, SimulatorConfig
from matcher.engine.snapshot import restore as restore_engine
from matcher.engine.snapshot import snapshot as snapshot_engine
from shared.domain.codes import REJECTED
from shared.domain.commands import (
    CancelOrder,
    Command,
    NewOrder,
    RecordOutcome,
    ReplaceOrder,
    SetReferencePrices,
)
from shared.domain.events import (
    CancelRejected,
    Event,
    NothingChanged,
    OrderAccepted,
    OrderRejected,
    ReferencePricesSet,
    ReplaceRejected,
)
from shared.domain.order_rules import working_status

PAPER = "paper"
BAD_SOURCE = "INVALID_REFERENCE_PRICES"


def reference_source_ok(c: SetReferencePrices) -> bool:
    """A source the simulator can run: a walk with positive steps, or a file of positive
    prices (at least one point)."""
    if c.start_price < 0:
        return False
    if c.source == "walk":
        return c.step_ns > 0 and c.step_ticks >= 0
    if c.source != "file" or not c.prices:
        return False
    return all(len(p) == 2 and p[1] > 0 for p in c.prices)


@final
class InstrumentVenues:
    """The per-instrument unit the matcher runs: `handle(command, out)` in command order."""

    def __init__(
        self,
        symbol: str,
        maker_fee_cbps: int = 0,
        taker_fee_cbps: int = 0,
        reference_price: int = 0,
        seed: int = 0,
        simulator: SimulatorConfig | None = None,
    ) -> None:
        self.engine = MatchingEngine(symbol, maker_fee_cbps, taker_fee_cbps)
        config = simulator or SimulatorConfig(
            seed=seed,
            start_price=reference_price if reference_price > 0 else 10_000,
            maker_fee_cbps=maker_fee_cbps,
            taker_fee_cbps=taker_fee_cbps,
        )
        self.simulator = FillSimulator(symbol, config)
        self.shadow = ShadowMarket(self.simulator)  # shadow mode's copies (see shadow.py)

    @property
    def symbol(self) -> str:
        return self.engine.symbol

    @property
    def seq(self) -> int:
        return self.engine.seq

    @property
    def last_px(self) -> int:
        return self.engine.last_px

    def depth(self, levels: int) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        return self.engine.depth(levels)

    def process(self, commands: list[Command], out: list[Event]) -> None:
        for command in commands:
            self.handle(command, out)

    def handle(self, command: Command, out: list[Event]) -> None:
        """Apply one command to the market it belongs to; append its events to `out`. A
        command about the whole instrument goes to the engine, then to the paper orders.
        Then the shadow copies of internal orders meet it (shadow mode)."""
        start = len(out)
        self._handle(command, out)
        shadow = self.shadow
        copied = isinstance(command, NewOrder) and command.shadow and command.venue != PAPER
        if copied and len(out) > start and isinstance(out[start], OrderAccepted):
            assert isinstance(command, NewOrder)
            self.engine.seq = shadow.place(command, self.engine.seq, out)
        elif shadow.busy:
            self.engine.seq = shadow.handle(command, self.engine.seq, out)

    def _handle(self, command: Command, out: list[Event]) -> None:
        sim = self.simulator
        if isinstance(command, NewOrder):
            paper = command.venue == PAPER
        elif isinstance(command, (CancelOrder, ReplaceOrder)):
            paper = command.order_id in sim.orders
        elif isinstance(command, RecordOutcome):
            self.record_outcome(command, out)
            return
        elif isinstance(command, SetReferencePrices):
            self.set_reference(command, out)
            return
        else:
            self.engine.handle(command, out)
            paper = True
        if not paper:
            self.engine.handle(command, out)
            return
        sim.seq = self.engine.seq  # one sequence for the instrument's two markets
        sim.handle(command, out)
        self.engine.seq = sim.seq

    def set_reference(self, c: SetReferencePrices, out: list[Event]) -> None:
        """A new reference price source for the paper market; the working paper orders meet
        the old one up to this time first. A source the simulator cannot run (the service
        validates them) changes nothing: NothingChanged with INVALID_REFERENCE_PRICES."""
        sim = self.simulator
        sim.seq = self.engine.seq
        if not reference_source_ok(c):
            sim.seq += 1
            out.append(NothingChanged(sim.symbol, sim.seq, c.ts, c.command_id, BAD_SOURCE))
        else:
            sim.advance(c.ts, out)
            start = sim.set_reference(c)
            sim.seq += 1
            out.append(
                ReferencePricesSet(sim.symbol, sim.seq, c.ts, c.source, start, len(c.prices))
            )
        self.engine.seq = sim.seq

    def record_outcome(self, c: RecordOutcome, out: list[Event]) -> None:
        """Answer a command that is not run (see RecordOutcome), touching no book: a new
        order is rejected, a cancel or replace refused (the order, if still working, keeps
        its state and counts the answer in its order_seq), anything else NothingChanged."""
        engine = self.engine
        symbol, ts = engine.symbol, c.ts
        if not c.reason or c.of_kind not in (NewOrder.KIND, CancelOrder.KIND, ReplaceOrder.KIND):
            engine.seq += 1
            out.append(NothingChanged(symbol, engine.seq, ts, c.command_id, c.reason))
            return
        if c.of_kind == NewOrder.KIND:
            engine.seq += 1
            out.append(
                OrderRejected(
                    symbol, engine.seq, ts, c.order_id, c.account_id, 1, REJECTED, c.reason
                )
            )
            return
        o: RestingOrder | None = (
            engine.orders.get(c.order_id)
            or engine.stops.get(c.order_id)
            or self.simulator.orders.get(c.order_id)
        )
        order_seq, status = 0, ""
        if o is not None and o.account_id == c.account_id:
            o.order_seq += 1
            order_seq, status = o.order_seq, working_status(o.cum_qty, o.leaves_qty, 0)
        engine.seq += 1
        if c.of_kind == CancelOrder.KIND:
            out.append(
                CancelRejected(
                    symbol, engine.seq, ts, c.order_id, c.account_id, order_seq, status, c.reason
                )
            )
        else:
            out.append(
                ReplaceRejected(
                    symbol, engine.seq, ts, c.order_id, c.account_id, order_seq, status, c.reason
                )
            )

    def snapshot(self) -> dict[str, object]:
        data: dict[str, object] = {
            "engine": snapshot_engine(self.engine),
            "simulator": self.simulator.snapshot(),
        }
        if self.shadow.busy:  # only then: a snapshot without shadow copies is as it was
            data["shadow"] = self.shadow.snapshot()
        return data

    @staticmethod
    def restore(data: dict[str, object]) -> InstrumentVenues:
        engine_data = data["engine"]
        sim_data = data["simulator"]
        assert isinstance(engine_data, dict) and isinstance(sim_data, dict)
        venues = InstrumentVenues(str(engine_data["symbol"]))
        venues.engine = restore_engine(engine_data)
        venues.simulator = FillSimulator.restore(venues.engine.symbol, venues.engine.seq, sim_data)
        venues.shadow = ShadowMarket(venues.simulator)
        shadow_data = data.get("shadow")
        if isinstance(shadow_data, dict):
            venues.shadow = ShadowMarket.restore(venues.simulator, shadow_data)
        return venues

    def state_hash(self) -> str:
        """SHA-256 of the canonical snapshot of both venues."""
        text = json.dumps(self.snapshot(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
