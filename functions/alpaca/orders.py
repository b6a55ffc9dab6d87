"""`/v2/orders`: place, list, get (by id and by client order id), replace, cancel, cancel all.

Each route turns Alpaca's request into the service call the native API makes (placing,
amending, mass_cancel, queries) and the answer into Alpaca's order object. A submit with a
`client_order_id` is idempotent: the SDK's retry of a submit whose answer was lost (a 504)
gets the order the first attempt placed, never a second one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from functions.alpaca.bodies import ReplaceOrder, SubmitOrder
from functions.alpaca.deps import CallerDep, ContainerDep, PageReaderDep
from functions.alpaca.shapes import json_response, order_json, orders_page, request_of
from shared.alpaca import codes as alpaca_codes
from shared.alpaca import generations
from shared.alpaca.generations import Role
from shared.alpaca.ids import parse_uuid
from shared.alpaca.symbols import find_instrument
from shared.domain.enums import Side
from shared.domain.order import OPEN_STATUSES, TERMINAL_STATUSES
from shared.services import amending, codes, mass_cancel, placing
from shared.services.amending import ReplaceRequest
from shared.services.errors import InvalidRequest, NotFound
from shared.services.views import datetime_to_ns

router = APIRouter(prefix="/v2", tags=["alpaca"])


def _order_uuid(text: str) -> uuid.UUID:
    parsed = parse_uuid(text)
    if parsed is None:
        raise NotFound(codes.ORDER_NOT_FOUND, f"order not found: {text}", "order_id")
    return parsed


@router.post("/orders")
async def submit_order(request: Request, container: ContainerDep, caller: CallerDep) -> Response:
    body = SubmitOrder.read(await request.body())
    order_request = await request_of(container, body)
    attempt = None if body.client_order_id is None else f"alpaca:{body.client_order_id}"
    placed = await placing.place_order(container, caller.account, order_request, attempt)
    return json_response(await order_json(container, placed.order, nested=True))


@router.get("/orders")
async def list_orders(
    container: ContainerDep,
    caller: PageReaderDep,
    status: Literal["open", "closed", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: datetime | None = None,
    until: datetime | None = None,
    direction: Literal["asc", "desc"] = "desc",
    nested: bool = False,
    symbols: Annotated[str | None, Query(max_length=2000)] = None,
    side: Side | None = None,
) -> Response:
    statuses = {"open": OPEN_STATUSES, "closed": TERMINAL_STATUSES, "all": ()}[status]
    wanted = None
    if symbols:
        wanted = set()
        for name in symbols.split(","):
            instrument = await find_instrument(container, name)
            if instrument is not None:
                wanted.add(instrument.symbol)
        if not wanted:
            return json_response([])
    orders = await orders_page(
        container,
        caller.account_id,
        statuses=statuses,
        symbols=wanted,
        side=side,
        # Alpaca's `after` and `until` both leave out the instant itself.
        since=None if after is None else datetime_to_ns(after) + 1,
        until=None if until is None else datetime_to_ns(until),
        limit=limit,
        oldest_first=direction == "asc",
        top_level=nested,
    )
    return json_response([await order_json(container, o, nested=nested) for o in orders])


@router.get("/orders:by_client_order_id")
async def get_order_by_client_order_id(
    container: ContainerDep,
    caller: CallerDep,
    client_order_id: Annotated[str, Query(min_length=1, max_length=128)],
    nested: bool = False,
) -> Response:
    order, generation = await generations.resolve_client_order_id(
        container, caller.account_id, client_order_id
    )
    return json_response(await order_json(container, order, generation, nested=nested))


@router.get("/orders/{order_id}")
async def get_order(
    order_id: str, container: ContainerDep, caller: CallerDep, nested: bool = False
) -> Response:
    order, generation = await generations.resolve(
        container, caller.account_id, _order_uuid(order_id)
    )
    return json_response(await order_json(container, order, generation, nested=nested))


@router.patch("/orders/{order_id}")
async def replace_order(
    order_id: str, request: Request, container: ContainerDep, caller: CallerDep
) -> Response:
    body = ReplaceOrder.read(await request.body())
    order, generation = await generations.resolve(
        container, caller.account_id, _order_uuid(order_id)
    )
    if generation.role is not Role.CURRENT:
        detail = f"order {order_id} is not open: it was replaced"
        if generation.role is Role.REPLACING:
            detail = f"order {order_id} is not open yet: its replace is not answered"
        raise InvalidRequest(alpaca_codes.ORDER_REPLACED, detail, "order_id")
    trail_amount = trail_percent = None
    if body.trail is not None:  # the new trail, of the kind the order has
        if order.trail_cbps:
            trail_percent = body.trail
        else:
            trail_amount = body.trail
    tif = order.time_in_force.value
    if body.time_in_force is not None and body.time_in_force != ("gtc" if tif == "gtd" else tif):
        detail = "a replace keeps the order's time_in_force"
        raise InvalidRequest(alpaca_codes.TIME_IN_FORCE_NOT_REPLACEABLE, detail, "time_in_force")
    # As Alpaca does, the replacing order gets a new client order id (a fresh one if none).
    client_order_id = body.client_order_id or str(uuid.uuid4())
    await generations.record_replacement(container, caller.account_id, order, client_order_id)
    change = ReplaceRequest(
        body.qty,
        body.limit_price,
        body.stop_price,
        client_order_id,
        trail_amount=trail_amount,
        trail_percent=trail_percent,
    )
    replaced = await amending.replace_order(container, caller.account, order.order_id, change)
    return json_response(
        await order_json(container, replaced, generations.generation_of(replaced, client_order_id))
    )


@router.delete("/orders/{order_id}", status_code=204)
async def cancel_order(order_id: str, container: ContainerDep, caller: CallerDep) -> Response:
    order, generation = await generations.resolve(
        container, caller.account_id, _order_uuid(order_id)
    )
    if generation.role in (Role.REPLACED, Role.REFUSED):
        status = "replaced" if generation.role is Role.REPLACED else "rejected"
        detail = f"order is not cancelable: it is {status}"
        raise InvalidRequest(alpaca_codes.ORDER_REPLACED, detail, "order_id")
    await amending.cancel_order(container, caller.account, order.order_id)
    return Response(status_code=204)


@router.delete("/orders")
async def cancel_all_orders(container: ContainerDep, caller: CallerDep) -> Response:
    orders = await mass_cancel.cancel_all(container, caller.account, None)
    results = []
    for order in orders:
        body = await order_json(container, order)
        results.append({"id": body["id"], "status": 200, "body": body})
    return Response(orjson.dumps(results), 207, media_type="application/json")
