"""Events of a working order that both markets (the engine and the fill simulator) build
the same way. Each takes the event's instrument `seq` and the order after its `order_seq`
moved on (`Market._next_event`); the status follows from the order (`working_status`)."""

from __future__ import annotations

from matcher.engine.working import RestingOrder
from shared.domain.codes import CANCELED, EXPIRED, LIMIT, MARKET, STOP, TRAILING_STOP
from shared.domain.events import (
    Event,
    OrderCanceled,
    OrderExpired,
    OrderReplaced,
    OrderRestated,
    OrderTriggered,
    ReplaceRejected,
    TrailingStopMoved,
)
from shared.domain.order_rules import working_status


def status_of(o: RestingOrder) -> str:
    return working_status(o.cum_qty, o.leaves_qty, o.held_qty)


def replace_refused_event(
    symbol: str, seq: int, ts: int, o: RestingOrder, reason: str
) -> ReplaceRejected:
    """ReplaceRejected for a replace of `o` the replace rules refuse (`replace_problem`)."""
    return ReplaceRejected(
        symbol, seq, ts, o.order_id, o.account_id, o.order_seq, status_of(o), reason
    )


def closed_event(
    symbol: str, seq: int, ts: int, o: RestingOrder, canceled: int, reason: str, expired: bool
) -> Event:
    """OrderExpired (expired) or OrderCanceled for `o`; `canceled` is all it had open."""
    oid, acct, order_seq, cum = o.order_id, o.account_id, o.order_seq, o.cum_qty
    if expired:
        return OrderExpired(symbol, seq, ts, oid, acct, order_seq, EXPIRED, canceled, cum, reason)
    return OrderCanceled(symbol, seq, ts, oid, acct, order_seq, CANCELED, canceled, cum, reason)


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
        status_of(o),
        o.quantity,
        o.price,
        o.stop_price,
        o.leaves_qty,
        o.cum_qty,
        kept,
        client_order_id,
        o.trail_amount,
        o.trail_cbps,
    )


def restated_event(
    symbol: str, seq: int, ts: int, o: RestingOrder, canceled: int, reason: str
) -> OrderRestated:
    """OrderRestated: `o`'s open quantity changed without a fill or a request; `canceled`
    is what this change took away."""
    return OrderRestated(
        symbol,
        seq,
        ts,
        o.order_id,
        o.account_id,
        o.order_seq,
        status_of(o),
        o.quantity,
        o.leaves_qty,
        o.cum_qty,
        o.held_qty,
        canceled,
        reason,
    )


def trailing_moved_event(symbol: str, seq: int, ts: int, o: RestingOrder) -> TrailingStopMoved:
    return TrailingStopMoved(
        symbol, seq, ts, o.order_id, o.account_id, o.order_seq, status_of(o), o.stop_price, o.hwm
    )


def triggered_event(
    symbol: str,
    seq: int,
    ts: int,
    o: RestingOrder,
    trigger_px: int,
    arrival: tuple[int, int, int, int] = (0, 0, 0, 0),
) -> Event:
    """OrderTriggered: the stop now works as a market (stop, trailing stop) or limit
    (stop-limit) order; `arrival` is the market it meets (`Market.arrival`)."""
    works_as = MARKET if o.order_type == STOP or o.order_type == TRAILING_STOP else LIMIT
    return OrderTriggered(
        symbol,
        seq,
        ts,
        o.order_id,
        o.account_id,
        o.order_seq,
        status_of(o),
        works_as,
        trigger_px,
        arrival[0],
        arrival[1],
        arrival[2],
        arrival[3],
    )
