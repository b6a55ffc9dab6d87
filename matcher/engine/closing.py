"""The event that closes an order's open quantity, shared by the engine and the simulator."""

from __future__ import annotations

from matcher.engine.book import RestingOrder
from matcher.engine.codes import CANCELED, EXPIRED
from shared.domain.events import Event, OrderCanceled, OrderExpired


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
