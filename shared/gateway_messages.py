"""Messages to venue gateways on VENUES_QUEUE: session id = venue name, so the one gateway
holding a venue's session (its lease) gets them, in order.

Bodies are JSON objects with a `kind`:
- `venue_defined` {venue, ts}: a venue was defined; its session becomes available at once,
  so a gateway takes the venue without waiting for its next scan of the store.
- `venue_changed` / `venue_deleted` {venue, ts}: the venue's definition changed or is gone;
  the gateway holding it reconnects with the new definition, or lets it go.
- `place` / `cancel` / `replace` {venue, symbol, request}: a request for the venue
  (`symbol` is our instrument; `request` the port's request with decimal strings).
The message id is the duplicate-detection key: requests use their client order id, so a
re-sent request is dropped by the bus and, past its window, found at the venue by id.
"""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import Any

import orjson

from shared.domain.enums import OrderType, Side, TimeInForce
from shared.ports.bus import BusMessage
from shared.ports.venue import VenueCancel, VenueOrder, VenueReplace, VenueRequest

VENUE_DEFINED = "venue_defined"
VENUE_CHANGED = "venue_changed"
VENUE_DELETED = "venue_deleted"
VENUE_NOTICES = frozenset({VENUE_DEFINED, VENUE_CHANGED, VENUE_DELETED})
KIND_OF: dict[type[Any], str] = {
    VenueOrder: "place",
    VenueCancel: "cancel",
    VenueReplace: "replace",
}
TYPE_OF: dict[str, type[Any]] = {kind: cls for cls, kind in KIND_OF.items()}
_DECIMALS = {"quantity", "price", "stop_price"}
_ENUMS: dict[str, type[Any]] = {
    "side": Side,
    "order_type": OrderType,
    "time_in_force": TimeInForce,
}


def venue_defined_message(venue: str, ts: int) -> BusMessage:
    return venue_notice(VENUE_DEFINED, venue, ts)


def venue_notice(kind: str, venue: str, ts: int) -> BusMessage:
    """A venue was defined, changed or deleted (`kind`), for the gateway holding it."""
    if kind not in VENUE_NOTICES:
        raise ValueError(f"not a venue notice: {kind}")
    body = orjson.dumps({"kind": kind, "venue": venue, "ts": ts})
    return BusMessage(body, f"{kind.replace('_', '-')}:{venue}:{ts}", session_id=venue)


def request_message(venue: str, symbol: str, request: VenueRequest) -> BusMessage:
    """A request for the venue's gateway."""
    data: dict[str, object] = {}
    for field in fields(request):
        value = getattr(request, field.name)
        data[field.name] = str(value) if isinstance(value, Decimal) else value
    body = {"kind": KIND_OF[type(request)], "venue": venue, "symbol": symbol, "request": data}
    return BusMessage(orjson.dumps(body), f"{venue}:{request.cl_ord_id}", session_id=venue)


def decode(body: bytes) -> tuple[str, str, str, VenueRequest | None]:
    """(kind, venue, symbol, request or None) of a gateway message; ValueError if malformed."""
    data = orjson.loads(body)
    if not isinstance(data, dict):
        raise ValueError("a gateway message is a JSON object")
    kind, venue = str(data.get("kind")), str(data.get("venue", ""))
    if kind in VENUE_NOTICES:
        return kind, venue, "", None
    cls = TYPE_OF.get(kind)
    if cls is None:
        raise ValueError(f"unknown gateway message kind {kind!r}")
    raw = data.get("request")
    if not isinstance(raw, dict):
        raise ValueError("a request message needs a `request` object")
    values: dict[str, object] = {}
    for field in fields(cls):
        if field.name not in raw:
            continue
        value = raw[field.name]
        if field.name in _DECIMALS and value is not None:
            value = Decimal(str(value))
        elif field.name in _ENUMS:
            value = _ENUMS[field.name](value)
        values[field.name] = value
    try:
        request = cls(**values)
    except TypeError as error:
        raise ValueError(f"malformed {kind} request: {error}") from error
    return kind, venue, str(data.get("symbol", "")), request
