"""Order entry: place, preview, replace, cancel, cancel all."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Path, Query, Request
from starlette.responses import Response

from functions.http.deps import CallerDep, ContainerDep
from functions.http.openapi import errors
from functions.http.views import json_response, order_body, orders_body, request_hash
from functions.requests import order_request, replace_request
from functions.schemas import (
    ID_PATTERN,
    SYMBOL_PATTERN,
    CheckOut,
    OrderOut,
    OrderPage,
    PlaceOrder,
    PreviewOut,
    ReplaceOrder,
)
from shared.services import amending, idempotency, mass_cancel, placing
from shared.services.views import order_view

router = APIRouter(prefix="/api", tags=["orders"])

OrderIdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9._:-]{1,128}$",
        description="Retries with the same key and body get the first response again.",
    ),
]


@router.post(
    "/orders",
    status_code=202,
    response_model=OrderOut,
    responses=errors(401, 409, 413, 422, 429),
    summary="Place an order",
)
async def place_order(
    body: PlaceOrder,
    request: Request,
    container: ContainerDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    # Most orders never reach this route: `order_entry` serves them first. It takes the
    # rest: a body FastAPI must judge, an Idempotency-Key, no API key.
    attempt = None if idempotency_key is None else f"http:{idempotency_key}"

    async def run() -> tuple[int, bytes]:
        placed = await placing.place_order(container, caller.account, order_request(body), attempt)
        return 202, orjson.dumps(order_view(placed.order, placed.instrument, placed.legs))

    if idempotency_key is None:
        status, content = await run()
        return json_response(content, status)
    fingerprint = request_hash("POST", request.url.path, body)
    stored = await idempotency.run_once(
        container, caller.account_id, idempotency_key, fingerprint, run
    )
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    return json_response(stored.body, stored.status_code, headers)


@router.post(
    "/orders/preview",
    response_model=PreviewOut,
    responses=errors(401, 413, 422),
    summary="Run every check of placing an order, place nothing",
)
async def preview_order(body: PlaceOrder, container: ContainerDep, caller: CallerDep) -> PreviewOut:
    preview = await placing.preview_order(container, caller.account, order_request(body))
    return PreviewOut(
        accepted=preview.accepted,
        failures=[
            {"reason": f.reason, "field": f.field, "detail": f.detail}  # type: ignore[misc]
            for f in preview.failures
        ],
        notional=preview.notional,
        checks=[
            CheckOut(
                name=c.name,
                passed=c.passed,
                reason=c.reason,
                field=c.field,
                detail=c.detail,
                value=c.value,
                limit=c.limit,
            )
            for c in preview.checks
        ],
    )


@router.patch(
    "/orders/{order_id}",
    status_code=202,
    response_model=OrderOut,
    responses=errors(401, 404, 409, 413, 422),
    summary="Replace an order in place (quantity = new total, filled part included)",
)
async def replace_order(
    order_id: OrderIdPath, body: ReplaceOrder, container: ContainerDep, caller: CallerDep
) -> Response:
    change = replace_request(body)
    order = await amending.replace_order(container, caller.account, order_id, change)
    return json_response(await order_body(container, order), 202)


@router.delete(
    "/orders/{order_id}",
    status_code=202,
    response_model=OrderOut,
    responses=errors(401, 404, 409, 422),
    summary="Cancel an order",
)
async def cancel_order(
    order_id: OrderIdPath, container: ContainerDep, caller: CallerDep
) -> Response:
    order = await amending.cancel_order(container, caller.account, order_id)
    return json_response(await order_body(container, order), 202)


@router.delete(
    "/orders",
    status_code=202,
    response_model=OrderPage,
    responses=errors(401, 422),
    summary="Cancel every open order (of one instrument, or all)",
)
async def cancel_all(
    container: ContainerDep,
    caller: CallerDep,
    symbol: Annotated[str | None, Query(pattern=SYMBOL_PATTERN)] = None,
) -> Response:
    orders = await mass_cancel.cancel_all(container, caller.account, symbol)
    return json_response(await orders_body(container, orders, None), 202)
