"""Response models of an order's history and of execution analytics."""

from __future__ import annotations

from typing import Any

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
