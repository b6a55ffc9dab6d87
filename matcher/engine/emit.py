"""Order events both venues (the engine and the fill simulator) build the same way.

Each takes the order after its `order_seq` was bumped and returns the event; the status
follows from the order (partially filled once anything filled)."""

from __future__ import annotations

from matcher.engine.book import RestingOrder
from matcher.engine.codes import CANCELED, EXPIRED, LIMIT, MARKET, NEW, PARTIALLY_FILLED, STOP
from shared.domain.events import (
    Event,
    OrderCanceled,
    OrderExpired,
    OrderReplaced,
    OrderTriggered,
)


def closed_event(
    symbol: str, seq: int, ts: int, o: RestingOrder, canceled: int, reason: str, expired: bool
) -> Event:
    """OrderExpired (expired) or OrderCanceled for `o`, whose `order_seq` is already bumped."""
    if expired:
        return OrderExpired(
            symbol, seq, ts, o.order_id, o.account_id, o.order_seq, EXPIRED, canceled, o.cum, reason
        )
    return OrderCanceled(
        symbol, seq, ts, o.order_id, o.account_id, o.order_seq, CANCELED, canceled, o.cum, reason
    )


def working_status(o: RestingOrder) -> str:
    return PARTIALLY_FILLED if o.cum > 0 else NEW


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
        working_status(o),
        o.quantity,
        o.price,
        o.stop_price,
        o.leaves,
        o.cum,
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
        working_status(o),
        works_as,
        trigger_px,
    )
