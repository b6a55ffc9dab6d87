"""Order events both venues (the engine and the fill simulator) build the same way.

Each takes the event's instrument `seq` and, for events of a working order, the order after
its `order_seq` was bumped; the status follows from the order (`working_status`)."""

from __future__ import annotations

from matcher.engine.book import RestingOrder
from shared.domain.codes import CANCELED, EXPIRED, LIMIT, MARKET, NEW, REJECTED, STOP
from shared.domain.commands import NewOrder
from shared.domain.events import (
    CancelRejected,
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderRejected,
    OrderReplaced,
    OrderTriggered,
    ReplaceRejected,
)
from shared.domain.order_rules import working_status


def accepted_event(symbol: str, seq: int, c: NewOrder) -> OrderAccepted:
    """OrderAccepted (order_seq 1) for a new order that passed `new_order_problem`."""
    return OrderAccepted(
        symbol,
        seq,
        c.ts,
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


def rejected_event(symbol: str, seq: int, c: NewOrder, reason: str) -> OrderRejected:
    """OrderRejected (order_seq 1): the new order never worked."""
    return OrderRejected(symbol, seq, c.ts, c.order_id, c.account_id, 1, REJECTED, reason)


def cancel_rejected_event(
    symbol: str, seq: int, ts: int, order_id: str, account_id: str, reason: str
) -> CancelRejected:
    """CancelRejected for a cancel that names no order of its account (`request_problem`):
    no order's sequence moves (order_seq 0)."""
    return CancelRejected(symbol, seq, ts, order_id, account_id, 0, "", reason)


def replace_rejected_event(
    symbol: str, seq: int, ts: int, order_id: str, account_id: str, reason: str
) -> ReplaceRejected:
    """ReplaceRejected for a replace that names no order of its account (order_seq 0)."""
    return ReplaceRejected(symbol, seq, ts, order_id, account_id, 0, "", reason)


def replace_refused_event(
    symbol: str, seq: int, ts: int, o: RestingOrder, reason: str
) -> ReplaceRejected:
    """ReplaceRejected for a replace of `o` the replace rules refuse (`replace_problem`)."""
    return ReplaceRejected(
        symbol,
        seq,
        ts,
        o.order_id,
        o.account_id,
        o.order_seq,
        working_status(o.cum_qty),
        reason,
    )


def closed_event(
    symbol: str, seq: int, ts: int, o: RestingOrder, canceled: int, reason: str, expired: bool
) -> Event:
    """OrderExpired (expired) or OrderCanceled for `o`."""
    if expired:
        return OrderExpired(
            symbol,
            seq,
            ts,
            o.order_id,
            o.account_id,
            o.order_seq,
            EXPIRED,
            canceled,
            o.cum_qty,
            reason,
        )
    return OrderCanceled(
        symbol,
        seq,
        ts,
        o.order_id,
        o.account_id,
        o.order_seq,
        CANCELED,
        canceled,
        o.cum_qty,
        reason,
    )


def replaced_event(
    symbol: str, seq: int, ts: int, o: RestingOrder, kept: bool, client_order_id: str
) -> OrderReplaced:
    """OrderReplaced carrying the order's new quantity, prices and leaves."""
    return OrderReplaced(
        symbol,
        seq,
        ts,
        o.order_id,
        o.account_id,
        o.order_seq,
        working_status(o.cum_qty),
        o.quantity,
        o.price,
        o.stop_price,
        o.leaves_qty,
        o.cum_qty,
        kept,
        client_order_id,
    )


def triggered_event(symbol: str, seq: int, ts: int, o: RestingOrder, trigger_px: int) -> Event:
    """OrderTriggered: the stop now works as a market (stop) or limit (stop-limit) order."""
    works_as = MARKET if o.order_type == STOP else LIMIT
    return OrderTriggered(
        symbol,
        seq,
        ts,
        o.order_id,
        o.account_id,
        o.order_seq,
        working_status(o.cum_qty),
        works_as,
        trigger_px,
    )
