"""Turns engine events into the oracle's normalized tuples, and projects them per order."""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.events import (
    CancelRejected,
    Event,
    InstrumentConfigured,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderRestated,
    OrderTriggered,
    ReplaceRejected,
    TradingStateChanged,
    TrailingStopMoved,
)
from shared.domain.order_rules import working_status

Norm = tuple[object, ...]


def normalize(events: list[Event]) -> list[Norm]:
    out: list[Norm] = []
    pending_maker: OrderFilled | None = None
    for e in events:
        if isinstance(e, OrderFilled):
            if e.liquidity == "maker":
                pending_maker = e
                continue
            assert pending_maker is not None, "a taker fill must follow its maker fill"
            assert pending_maker.trade_seq == e.trade_seq == pending_maker.seq
            assert (pending_maker.last_qty, pending_maker.last_px) == (e.last_qty, e.last_px)
            out.append(("fill", pending_maker.order_id, e.order_id, e.last_qty, e.last_px))
            pending_maker = None
        elif isinstance(e, OrderAccepted):
            out.append(("accepted", e.order_id, e.leaves_qty, e.held_qty, e.stop_price))
        elif isinstance(e, OrderRejected):
            out.append(("rejected", e.order_id, e.reason))
        elif isinstance(e, OrderCanceled):
            out.append(("cancel", e.order_id, e.canceled_qty, e.reason))
        elif isinstance(e, OrderExpired):
            out.append(("expire", e.order_id, e.canceled_qty, e.reason))
        elif isinstance(e, OrderReplaced):
            out.append(
                (
                    "replaced",
                    e.order_id,
                    e.quantity,
                    e.price,
                    e.stop_price,
                    e.leaves_qty,
                    e.priority_kept,
                )
            )
        elif isinstance(e, OrderRestated):
            out.append(
                (
                    "restated",
                    e.order_id,
                    e.reason,
                    e.leaves_qty,
                    e.held_qty,
                    e.canceled_qty,
                    e.quantity,
                )
            )
        elif isinstance(e, TrailingStopMoved):
            out.append(("moved", e.order_id, e.stop_price, e.high_water_mark))
        elif isinstance(e, OrderTriggered):
            out.append(("triggered", e.order_id))
        elif isinstance(e, CancelRejected):
            out.append(("cancel_rejected", e.order_id))
        elif isinstance(e, ReplaceRejected):
            if e.order_seq == 0:
                out.append(("replace_rejected", e.order_id))
            else:
                out.append(("replace_rejected", e.order_id, e.reason))
        elif isinstance(e, TradingStateChanged):
            out.append(("state", e.state))
        elif isinstance(e, InstrumentConfigured):
            out.append(("configured", e.maker_fee_cbps, e.taker_fee_cbps))
        else:  # pragma: no cover - a new event type must be normalized here
            raise AssertionError(f"unknown event {e!r}")
    assert pending_maker is None, "a maker fill without its taker fill"
    return out


@dataclass
class OrderTally:
    """What the events say about one order: quantity and where each lot went."""

    side: str
    quantity: int
    filled: int = 0
    canceled: int = 0
    leaves: int = 0
    held: int = 0
    order_seq: int = 0
    fills: int = 0
    done: bool = False


def tally(events: list[Event], tallies: dict[str, OrderTally]) -> None:
    """Fold events into per-order tallies, checking each order's sequence is contiguous, its
    quantities add up after every event, and the status each event reports."""
    for e in events:
        if isinstance(e, (TradingStateChanged, InstrumentConfigured)):
            continue
        assert isinstance(
            e,
            (
                OrderAccepted,
                OrderRejected,
                OrderFilled,
                OrderCanceled,
                OrderExpired,
                OrderReplaced,
                OrderRestated,
                OrderTriggered,
                TrailingStopMoved,
                CancelRejected,
                ReplaceRejected,
            ),
        )
        if e.order_seq == 0:  # an answer about an order the engine does not hold
            continue
        if isinstance(e, OrderAccepted):
            tallies[e.order_id] = OrderTally(
                e.side, e.quantity, leaves=e.leaves_qty, held=e.held_qty
            )
        elif isinstance(e, OrderRejected):
            tallies[e.order_id] = OrderTally("?", 0, done=True)
        t = tallies[e.order_id]
        assert e.order_seq == t.order_seq + 1, f"order_seq gap for {e.order_id}"
        t.order_seq = e.order_seq
        if isinstance(e, OrderFilled):
            t.filled += e.last_qty
            t.fills += 1
            assert t.filled == e.cum_qty
            t.leaves = e.leaves_qty
        elif isinstance(e, (OrderCanceled, OrderExpired)):
            assert e.canceled_qty == t.leaves + t.held, e
            t.canceled += e.canceled_qty
            t.leaves = 0
            t.held = 0
            t.done = True
        elif isinstance(e, OrderReplaced):
            t.quantity = e.quantity
            t.leaves = e.leaves_qty
        elif isinstance(e, OrderRestated):
            t.quantity = e.quantity
            t.leaves = e.leaves_qty
            t.held = e.held_qty
            t.canceled += e.canceled_qty
            assert e.leaves_qty + e.held_qty > 0, f"a restatement leaves {e.order_id} open"
        assert t.filled + t.leaves + t.held + t.canceled == t.quantity, (e, t)
        if isinstance(e, OrderFilled) and t.leaves == 0 and t.held == 0:
            assert e.status == "filled", e
            t.done = True
        elif not isinstance(e, (OrderCanceled, OrderExpired, OrderRejected)):
            assert e.status == working_status(t.filled, t.leaves, t.held), e
