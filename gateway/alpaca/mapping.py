"""Alpaca's Trading API (v2) and `trade_updates` stream to the venue port's types: pure
functions over the JSON Alpaca sends and takes.

Decimal strings end to end: Alpaca's JSON carries quantities and prices as strings, and
so do the bodies built here (alpaca-py's request and TradeUpdate models hold them as
binary floats, which is why the connector asks the SDK for raw data).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.domain.enums import OrderType, Side, TimeInForce
from shared.ports.venue import (
    ReportKind,
    VenueOrder,
    VenueOrdStatus,
    VenueReplace,
    VenueReport,
)

Json = dict[str, Any]
RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$")
UNKNOWN_ORDER = "5"  # as FIX's OrdRejReason: the venue does not know the order

EVENTS: dict[str, ReportKind] = {
    "accepted": ReportKind.PENDING_NEW,
    "pending_new": ReportKind.PENDING_NEW,
    "new": ReportKind.NEW,
    "partial_fill": ReportKind.TRADE,
    "fill": ReportKind.TRADE,
    "done_for_day": ReportKind.DONE_FOR_DAY,
    "canceled": ReportKind.CANCELED,
    "expired": ReportKind.EXPIRED,
    "replaced": ReportKind.REPLACED,
    "rejected": ReportKind.REJECTED,
    "pending_cancel": ReportKind.PENDING_CANCEL,
    "pending_replace": ReportKind.PENDING_REPLACE,
    "stopped": ReportKind.STOPPED,
    "suspended": ReportKind.SUSPENDED,
    "calculated": ReportKind.CALCULATED,
    "restated": ReportKind.RESTATED,
    "order_cancel_rejected": ReportKind.CANCEL_REJECTED,
    "order_replace_rejected": ReportKind.CANCEL_REJECTED,
}
STATUSES: dict[str, VenueOrdStatus] = {
    "new": VenueOrdStatus.NEW,
    "partially_filled": VenueOrdStatus.PARTIALLY_FILLED,
    "filled": VenueOrdStatus.FILLED,
    "done_for_day": VenueOrdStatus.DONE_FOR_DAY,
    "canceled": VenueOrdStatus.CANCELED,
    "expired": VenueOrdStatus.EXPIRED,
    "pending_cancel": VenueOrdStatus.PENDING_CANCEL,
    "pending_replace": VenueOrdStatus.PENDING_REPLACE,
    "pending_review": VenueOrdStatus.PENDING_NEW,
    "accepted": VenueOrdStatus.PENDING_NEW,
    "pending_new": VenueOrdStatus.PENDING_NEW,
    "held": VenueOrdStatus.PENDING_NEW,
    "accepted_for_bidding": VenueOrdStatus.ACCEPTED_FOR_BIDDING,
    "stopped": VenueOrdStatus.STOPPED,
    "rejected": VenueOrdStatus.REJECTED,
    "suspended": VenueOrdStatus.SUSPENDED,
    "calculated": VenueOrdStatus.CALCULATED,
}
CLOSED = {"filled", "canceled", "expired", "replaced", "rejected", "done_for_day"}
TYPES = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.STOP: "stop",
    OrderType.STOP_LIMIT: "stop_limit",
}
TIFS = {
    TimeInForce.DAY: "day",
    TimeInForce.GTC: "gtc",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
}


def decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def decimal(value: object) -> Decimal:
    """A decimal from Alpaca's JSON (a string; null: 0)."""
    if value is None or value == "":
        return Decimal(0)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)
    return number if number.is_finite() else Decimal(0)


def timestamp_ns(text: object) -> int:
    """ns since the epoch from RFC 3339 (Alpaca sends up to nanoseconds); 0 if absent."""
    match = RFC3339.match(text) if isinstance(text, str) else None
    if match is None:
        return 0
    head, fraction, zone = match.groups()
    moment = datetime.fromisoformat(head + ("+00:00" if zone == "Z" else zone))
    digits = ((fraction or "") + "000000000")[:9]
    return int(moment.astimezone(UTC).timestamp()) * 1_000_000_000 + int(digits)


def order_body(order: VenueOrder) -> Json:
    """The body of `POST /v2/orders`: our order id is Alpaca's client_order_id, so a
    second submission of the same order is refused by Alpaca, never a second order."""
    if order.time_in_force not in TIFS:
        raise ValueError(f"Alpaca has no time in force {order.time_in_force.value}")
    body: Json = {
        "symbol": order.symbol,
        "qty": decimal_text(order.quantity),
        "side": order.side.value,
        "type": TYPES[order.order_type],
        "time_in_force": TIFS[order.time_in_force],
        "client_order_id": order.cl_ord_id,
    }
    if order.price is not None and order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        body["limit_price"] = decimal_text(order.price)
    if order.stop_price is not None and order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        body["stop_price"] = decimal_text(order.stop_price)
    return body


def replace_body(request: VenueReplace) -> Json:
    """The body of `PATCH /v2/orders/{id}`; the new order gets our request's id."""
    body: Json = {"qty": decimal_text(request.quantity), "client_order_id": request.cl_ord_id}
    if request.time_in_force in TIFS:
        body["time_in_force"] = TIFS[request.time_in_force]
    if request.price is not None:
        body["limit_price"] = decimal_text(request.price)
    if request.stop_price is not None:
        body["stop_price"] = decimal_text(request.stop_price)
    return body


def order_report(
    venue: str,
    order: Json,
    kind: ReportKind,
    exec_id: str,
    *,
    cl_ord_id: str | None = None,
    orig_cl_ord_id: str = "",
    last_qty: Decimal = Decimal(0),
    last_px: Decimal = Decimal(0),
    transact_time: int = 0,
    text: str = "",
    request_id: str = "",
    poss_dup: bool = False,
) -> VenueReport:
    """A report about `order` (an Alpaca order object) in its state now."""
    status = str(order.get("status", ""))
    quantity, filled = decimal(order.get("qty")), decimal(order.get("filled_qty"))
    side = order.get("side")
    return VenueReport(
        venue=venue,
        kind=kind,
        cl_ord_id=cl_ord_id if cl_ord_id is not None else str(order.get("client_order_id", "")),
        exec_id=exec_id,
        ord_status=STATUSES.get(status, VenueOrdStatus.UNKNOWN),
        symbol=str(order.get("symbol") or ""),
        side=Side(side) if side in ("buy", "sell") else None,
        venue_order_id=str(order.get("id", "")),
        orig_cl_ord_id=orig_cl_ord_id,
        order_qty=quantity,
        price=decimal(order.get("limit_price")) if order.get("limit_price") else None,
        last_qty=last_qty,
        last_px=last_px,
        cum_qty=filled,
        leaves_qty=Decimal(0) if status in CLOSED else max(quantity - filled, Decimal(0)),
        avg_px=decimal(order.get("filled_avg_price")),
        text=text,
        request_id=request_id,
        transact_time=transact_time or timestamp_ns(order.get("updated_at")),
        poss_dup=poss_dup,
    )


def trade_update_report(venue: str, update: Json) -> VenueReport | None:
    """The report of one `trade_updates` message's data (None: an event we do not know)."""
    event = str(update.get("event", ""))
    kind = EVENTS.get(event)
    order = update.get("order")
    if kind is None or not isinstance(order, dict):
        return None
    when = timestamp_ns(update.get("timestamp"))
    exec_id = str(update.get("execution_id") or f"{event}:{order.get('id')}:{when}")
    fill = kind is ReportKind.TRADE
    return order_report(
        venue,
        order,
        kind,
        exec_id,
        last_qty=decimal(update.get("qty")) if fill else Decimal(0),
        last_px=decimal(update.get("price")) if fill else Decimal(0),
        transact_time=when,
    )


def activity_report(venue: str, activity: Json, order: Json) -> VenueReport:
    """A fill from `GET /v2/account/activities/FILL` (reconciliation after a gap in the
    stream): flagged as a possible repeat, its exec id the activity's id. A consumer that
    also saw it on the stream (another exec id) applies it once by the order's cum qty."""
    status = str(activity.get("order_status", order.get("status", "")))
    return VenueReport(
        venue=venue,
        kind=ReportKind.TRADE,
        cl_ord_id=str(order.get("client_order_id", "")),
        exec_id=str(activity.get("id", "")),
        ord_status=STATUSES.get(status, VenueOrdStatus.UNKNOWN),
        symbol=str(activity.get("symbol") or order.get("symbol") or ""),
        side=Side(activity["side"]) if activity.get("side") in ("buy", "sell") else None,
        venue_order_id=str(activity.get("order_id", "")),
        order_qty=decimal(order.get("qty")),
        last_qty=decimal(activity.get("qty")),
        last_px=decimal(activity.get("price")),
        cum_qty=decimal(activity.get("cum_qty")),
        leaves_qty=decimal(activity.get("leaves_qty")),
        avg_px=decimal(order.get("filled_avg_price")),
        transact_time=timestamp_ns(activity.get("transaction_time")),
        poss_dup=True,
    )


def rfc3339(ns: int) -> str:
    moment = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ns % 1_000_000_000:09d}Z"
