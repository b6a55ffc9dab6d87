"""Response models of an order's history and of execution analytics."""

from __future__ import annotations

from typing import Any, Literal

from functions.schemas import Response
from shared.domain.enums import OrderStatus


class OrderEventOut(Response):
    """One matcher event of the order, as stored: `fields` are the event's own (prices and
    quantities as decimal strings on the instrument's grid, fees as money)."""

    seq: int
    order_seq: int
    kind: str
    status: OrderStatus | None
    ts: str | None
    processed_at: str | None
    fields: dict[str, Any]


class OrderEventPage(Response):
    items: list[OrderEventOut]
    next_cursor: None = None


class AuditEntryOut(Response):
    """One administrative action: who, when, on what, and the thing before and after."""

    audit_id: str
    at: str
    actor: str
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: str


class AuditPage(Response):
    items: list[AuditEntryOut]
    next_cursor: str | None


class OrderAnalyticsOut(Response):
    """How well one order was executed. Slippage in bps against the arrival price, positive
    is a cost; implementation shortfall in money; latencies in ms from receipt. Null: not
    known (no fill yet; no arrival price recorded; the step has not happened)."""

    order_id: str
    symbol: str
    side: str
    venue: Literal["internal", "paper"]
    status: OrderStatus
    quantity: str
    filled_quantity: str
    fill_rate: str
    average_fill_price: str | None
    arrival_price: str | None
    slippage_bps: str | None
    implementation_shortfall: str | None
    fees: str
    received_at: str
    accepted_at: str | None
    first_fill_at: str | None
    completed_at: str | None
    latency_ms: dict[Literal["accept", "first_fill", "complete"], str | None]
    shadow: ShadowOut | None = None


class Distribution(Response):
    p50: str | None
    p95: str | None
    p99: str | None
    mean: str | None


class SimulatedOut(Response):
    average_fill_price: str | None
    filled_quantity: str
    fees: str
    first_fill_ms: str | None
    complete_ms: str | None


class RealTimesOut(Response):
    first_fill_ms: str | None
    complete_ms: str | None


class ShadowOut(Response):
    """Shadow mode: the order's copy on the fill simulator against the order (times in ms
    from receipt, in command time; price difference in bps of the real average, positive
    when the simulator would have cost more; quantity: simulated - real filled)."""

    simulated: SimulatedOut
    real: RealTimesOut
    price_difference_bps: str | None
    quantity_difference: str
    first_fill_difference_ms: str | None


class ShadowGroupOut(Response):
    orders: int
    price_difference_bps: Distribution
    quantity_difference: str
    first_fill_difference_ms: Distribution


class AnalyticsGroupOut(Response):
    key: dict[str, str]
    orders: int
    filled_orders: int
    fill_rate: str
    fees: str
    slippage_bps: Distribution
    latency_ms: dict[Literal["accept", "first_fill", "complete"], Distribution]
    shadow: ShadowGroupOut | None = None


class AnalyticsOut(Response):
    group_by: list[str]
    since: str | None
    until: str | None
    items: list[AnalyticsGroupOut]
