"""One instrument's venues: the matching engine and the paper fill simulator.

Paper orders (`NewOrder.venue == "paper"`, a group by its orders' venue) go to the
simulator, the rest to the engine; cancels and replaces follow the order. Both share the
instrument's sequence, so every event of the instrument has a unique, contiguous `seq`, and
execution ids never collide, and the accounts' net positions (every fill of either moves
them), which reduce-only orders may reduce.
"""

from __future__ import annotations

import hashlib
import json
from typing import final

from matcher.engine.engine import MatchingEngine
from matcher.engine.external import ExternalOrders, is_external
from matcher.engine.shadow import ShadowMarket
from matcher.engine.simulator import FillSimulator, SimulatorConfig
from matcher.engine.snapshot import restore as restore_engine
from matcher.engine.snapshot import snapshot as snapshot_engine
from matcher.engine.working import RestingOrder
from shared.domain import reasons
from shared.domain.codes import HALTED, REJECTED
from shared.domain.commands import (
    CancelAll,
    CancelOrder,
    Command,
    NewOrder,
    NewOrderGroup,
    RecordOutcome,
    ReplaceOrder,
    SetReferencePrices,
    SetTradingState,
    VenueReport,
)
from shared.domain.events import (
    CancelRejected,
    Event,
    NothingChanged,
    OrderAccepted,
    OrderRejected,
    ReferencePricesSet,
    ReplaceRejected,
    VenueRequestIssued,
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
        self.book = self.engine.book  # one position book for both venues
        self.simulator.book = self.book
        self.external = ExternalOrders(symbol)
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
        self._route(command, out)
        shadow = self.shadow
        head = _shadowed_head(command)
        if head is not None:
            assert isinstance(command, (NewOrder, NewOrderGroup))
            if _accepted(out, start, head.order_id):
                self.engine.seq = shadow.place(command, self.engine.seq, out)
            elif shadow.busy:
                self.engine.seq = shadow.handle(command, self.engine.seq, out)
        elif shadow.busy:
            self.engine.seq = shadow.handle(command, self.engine.seq, out)
        if len(out) > start:
            self.book.fold(out)
            if self.engine.running:
                self.engine.resync()
            if self.simulator.running:
                self.simulator.resync()

    def _route(self, command: Command, out: list[Event]) -> None:
        sim = self.simulator
        if isinstance(command, NewOrder):
            paper = command.venue == PAPER
            if not paper and command.venue != "internal" and is_external(command.venue):
                self._external_new(command, out)
                return
        elif isinstance(command, NewOrderGroup):
            paper = bool(command.orders) and command.orders[0].venue == PAPER
            if command.orders and is_external(command.orders[0].venue):
                self._external().reject_group(command, out)
                self.engine.seq = self.external.seq
                return
        elif isinstance(command, (CancelOrder, ReplaceOrder)):
            paper = command.order_id in sim.orders
            if not paper and self.external.orders and command.order_id in self.external.orders:
                ext = self._external()
                if isinstance(command, CancelOrder):
                    ext.cancel(
                        command.order_id,
                        command.account_id,
                        command.ts,
                        reasons.CANCELED_BY_CLIENT,
                        out,
                    )
                else:
                    ext.replace(command, out)
                self.engine.seq = ext.seq
                return
        elif isinstance(command, VenueReport):
            self._external().report(command, out)
            self.engine.seq = self.external.seq
            return
        elif isinstance(command, RecordOutcome):
            self.record_outcome(command, out)
            return
        elif isinstance(command, SetReferencePrices):
            self.set_reference(command, out)
            return
        else:
            self.engine.handle(command, out)
            paper = True
            if self.external.orders:
                self._external_all(command, out)
        if not paper:
            self.engine.handle(command, out)
            return
        sim.seq = self.engine.seq  # one sequence for the instrument's two markets
        sim.handle(command, out)
        self.engine.seq = sim.seq

    def outstanding_venue_requests(self) -> list[VenueRequestIssued]:
        """The external venues' requests not answered yet (see ExternalOrders.outstanding)."""
        return self.external.outstanding() if self.external.orders else []

    def _external(self) -> ExternalOrders:
        """The external orders, on the instrument's sequence."""
        self.external.seq = self.engine.seq
        return self.external

    def _external_new(self, c: NewOrder, out: list[Event]) -> None:
        engine = self.engine
        duplicate = c.order_id in self.simulator.orders or engine.working(c.order_id) is not None
        ext = self._external()
        ext.new_order(c, engine.state == HALTED, duplicate, out)
        engine.seq = ext.seq

    def _external_all(self, command: Command, out: list[Event]) -> None:
        """A halt or a cancel-all reaches the external orders too: cancels to the venue."""
        if isinstance(command, SetTradingState) and command.state == HALTED:
            account, reason = "", reasons.CANCELED_BY_HALT
        elif isinstance(command, CancelAll):
            account, reason = command.account_id, command.reason or reasons.CANCELED_BY_CLIENT
        else:
            return
        ext = self._external()
        ext.cancel_all(account, command.ts, reason, out)
        self.engine.seq = ext.seq

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
        order is rejected (a contingent group: every order of it), a cancel or replace
        refused (the order, if still working, keeps its state and counts the answer in its
        order_seq), anything else NothingChanged."""
        engine = self.engine
        symbol, ts = engine.symbol, c.ts
        news = (NewOrder.KIND, NewOrderGroup.KIND)
        answered = (NewOrder.KIND, NewOrderGroup.KIND, CancelOrder.KIND, ReplaceOrder.KIND)
        if not c.reason or c.of_kind not in answered:
            engine.seq += 1
            out.append(NothingChanged(symbol, engine.seq, ts, c.command_id, c.reason))
            return
        if c.of_kind in news:
            for order_id in c.group_order_ids.split() or [c.order_id]:
                engine.seq += 1
                out.append(
                    OrderRejected(
                        symbol, engine.seq, ts, order_id, c.account_id, 1, REJECTED, c.reason
                    )
                )
            return
        o: RestingOrder | None = engine.working(c.order_id) or self.simulator.orders.get(c.order_id)
        order_seq, status = 0, ""
        if o is not None and o.account_id == c.account_id:
            o.order_seq += 1
            order_seq = o.order_seq
            status = working_status(o.cum_qty, o.leaves_qty, o.held_qty)
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
        if self.external.orders:
            data["external"] = self.external.snapshot()
        if self.book.nets:
            data["positions"] = dict(self.book.nets)
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
        book = venues.engine.book
        venues.book = book
        venues.simulator.book = book
        nets = data.get("positions") or {}
        assert isinstance(nets, dict)
        book.nets = {str(account): int(net) for account, net in nets.items()}
        book.folded_seq = venues.engine.seq
        external = data.get("external") or []
        assert isinstance(external, list)
        venues.external.restore(external)
        venues.engine.watch_restored()
        venues.simulator.watch_restored()
        venues.shadow = ShadowMarket(venues.simulator)
        shadow_data = data.get("shadow")
        if isinstance(shadow_data, dict):
            venues.shadow = ShadowMarket.restore(venues.simulator, shadow_data)
        return venues

    def state_hash(self) -> str:
        """SHA-256 of the canonical snapshot of both venues."""
        text = json.dumps(self.snapshot(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _shadowed_head(command: Command) -> NewOrder | None:
    """The (first) order of a new internal order or group placed in shadow mode, else None."""
    if isinstance(command, NewOrder):
        head = command
    elif isinstance(command, NewOrderGroup) and command.orders:
        head = command.orders[0]
    else:
        return None
    return head if head.shadow and head.venue != PAPER else None


def _accepted(out: list[Event], start: int, order_id: str) -> bool:
    """Whether the events from `start` on accept order `order_id`."""
    for i in range(start, len(out)):
        e = out[i]
        if isinstance(e, OrderAccepted) and e.order_id == order_id:
            return True
    return False
