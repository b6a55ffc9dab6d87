"""An order's history (its audit trail) and execution analytics."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path
from starlette.responses import Response

from functions.http.deps import CallerDep, ContainerDep
from functions.http.openapi import errors
from functions.http.views import json_response
from functions.schemas import ID_PATTERN
from functions.schemas_history import OrderEventPage
from shared.services import order_history, queries

router = APIRouter(prefix="/api", tags=["history"])

OrderIdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]


@router.get(
    "/orders/{order_id}/events",
    response_model=OrderEventPage,
    responses=errors(401, 404, 422),
    summary="Every matcher event of the order, in order_seq order (its audit trail)",
)
async def order_events(
    order_id: OrderIdPath, container: ContainerDep, caller: CallerDep
) -> Response:
    events = await order_history.order_events(container, caller.account_id, order_id)
    instruments = queries.Instruments(container)
    items = [order_history.event_view(e, await instruments.get(e.symbol)) for e in events]
    return json_response(orjson.dumps({"items": items, "next_cursor": None}))
