"""Shaping service results into response bodies."""

from __future__ import annotations

import hashlib

import orjson
from pydantic import BaseModel
from starlette.responses import Response

from shared.bootstrap import Container
from shared.domain.order import Order
from shared.services.queries import Instruments, nested, with_legs
from shared.services.views import order_view

JSON = "application/json"


def json_response(
    body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(body, status, headers=headers, media_type=JSON)


async def order_body(container: Container, order: Order) -> bytes:
    """One order's answer: a group's head shows its legs."""
    instrument = await Instruments(container).get(order.symbol)
    order, legs = await with_legs(container, order)
    return orjson.dumps(order_view(order, instrument, legs))


async def orders_body(
    container: Container, orders: list[Order], next_cursor: str | None, nest: bool = False
) -> bytes:
    """A page of orders: each one flat, or (`nest`) a group's legs under its head."""
    instruments = Instruments(container)
    pairs = await nested(container, orders) if nest else [(o, None) for o in orders]
    items = [order_view(o, await instruments.get(o.symbol), legs) for o, legs in pairs]
    return orjson.dumps({"items": items, "next_cursor": next_cursor})


def request_hash(method: str, path: str, body: BaseModel) -> str:
    """The fingerprint of a request for Idempotency-Key: same method, path and JSON value."""
    canonical = orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(f"{method} {path} ".encode() + canonical).hexdigest()
