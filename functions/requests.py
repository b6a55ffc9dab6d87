"""API bodies as service requests, for every entrypoint that takes them: the HTTP routes, the
POST /api/orders fast path and the order-requests trigger (a bot's message body is the HTTP
body), so each body means the same request wherever it arrives."""

from __future__ import annotations

from functions.schemas import PlaceOrder, ReplaceOrder
from shared.services.amending import ReplaceRequest
from shared.services.tickets import OrderRequest, StopLossRequest, TakeProfitRequest
from shared.services.views import datetime_to_ns


def order_request(body: PlaceOrder) -> OrderRequest:
    """The service's request for a new order's (or a contingent group's) body."""
    take_profit = body.take_profit
    stop_loss = body.stop_loss
    return OrderRequest(
        symbol=body.symbol,
        side=body.side,
        type=body.type,
        quantity=body.quantity,
        time_in_force=body.time_in_force,
        limit_price=body.limit_price,
        stop_price=body.stop_price,
        expire_at=None if body.expire_at is None else datetime_to_ns(body.expire_at),
        client_order_id=body.client_order_id,
        trail_amount=body.trail_amount,
        trail_percent=body.trail_percent,
        display_quantity=body.display_quantity,
        post_only=body.post_only,
        reduce_only=body.reduce_only,
        order_class=body.order_class,
        take_profit=None
        if take_profit is None
        else TakeProfitRequest(take_profit.limit_price, take_profit.client_order_id),
        stop_loss=None
        if stop_loss is None
        else StopLossRequest(
            stop_loss.stop_price,
            stop_loss.limit_price,
            stop_loss.trail_amount,
            stop_loss.trail_percent,
            stop_loss.client_order_id,
        ),
    )


def replace_request(body: ReplaceOrder) -> ReplaceRequest:
    """The service's request for a replace's body (None = unchanged)."""
    return ReplaceRequest(
        quantity=body.quantity,
        limit_price=body.limit_price,
        stop_price=body.stop_price,
        client_order_id=body.client_order_id,
        trail_amount=body.trail_amount,
        trail_percent=body.trail_percent,
    )
