"""An order's history (its audit trail) and execution analytics."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime
from starlette.responses import Response

from functions.http.deps import CallerDep, ContainerDep
from functions.http.openapi import errors
from functions.http.views import json_response
from functions.schemas import ID_PATTERN, SYMBOL_PATTERN
from functions.schemas_history import AnalyticsOut, OrderAnalyticsOut, OrderEventPage
from shared.services import admin, analytics, order_history, queries
from shared.services.auth import ADMIN
from shared.services.money_views import money_str
from shared.services.views import datetime_to_ns, ns_to_rfc3339

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
    order, events = await order_history.order_events(container, caller.account_id, order_id)
    instrument = await queries.Instruments(container).get(order.symbol)
    items = [order_history.event_view(e, instrument) for e in events]
    return json_response(orjson.dumps({"items": items, "next_cursor": None}))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else money_str(value)


def _at(ns: int) -> str | None:
    return ns_to_rfc3339(ns) if ns else None


@router.get(
    "/orders/{order_id}/analytics",
    response_model=OrderAnalyticsOut,
    responses=errors(401, 404, 422),
    summary="How well the order was executed: fill price, slippage, fees, fill rate, latency",
)
async def order_analytics(
    order_id: OrderIdPath, container: ContainerDep, caller: CallerDep
) -> Response:
    q = await analytics.order_quality(container, caller.account, order_id)
    a = q.order
    instrument = await queries.Instruments(container).get(a.symbol)
    body = {
        "order_id": a.order_id,
        "symbol": a.symbol,
        "side": a.side.value,
        "venue": q.venue,
        "status": a.status.value,
        "quantity": instrument.quantity_str(a.quantity),
        "filled_quantity": instrument.quantity_str(a.cum_qty),
        "fill_rate": money_str(q.fill_rate),
        "average_fill_price": _text(q.average_fill_price),
        "arrival_price": _text(q.arrival_price),
        "slippage_bps": _text(q.slippage_bps),
        "implementation_shortfall": _text(q.implementation_shortfall),
        "fees": money_str(q.fees),
        "received_at": ns_to_rfc3339(a.created_at),
        "accepted_at": _at(a.accepted_at),
        "first_fill_at": _at(a.first_fill_at),
        "completed_at": _at(a.completed_at),
        "latency_ms": {
            "accept": _text(q.accept_ms),
            "first_fill": _text(q.first_fill_ms),
            "complete": _text(q.complete_ms),
        },
        "shadow": None if q.shadow is None else _shadow(q.shadow),
    }
    return json_response(orjson.dumps(body))


def _shadow(s: analytics.ShadowComparison) -> dict[str, object]:
    return {
        "simulated": {
            "average_fill_price": _text(s.average_fill_price),
            "filled_quantity": money_str(s.filled_quantity),
            "fees": money_str(s.fees),
            "first_fill_ms": _text(s.first_fill_ms),
            "complete_ms": _text(s.complete_ms),
        },
        "real": {
            "first_fill_ms": _text(s.real_first_fill_ms),
            "complete_ms": _text(s.real_complete_ms),
        },
        "price_difference_bps": _text(s.price_difference_bps),
        "quantity_difference": money_str(s.quantity_difference),
        "first_fill_difference_ms": _text(s.first_fill_difference_ms),
    }


def _shadow_group(s: analytics.ShadowAggregate | None) -> dict[str, object] | None:
    if s is None:
        return None
    return {
        "orders": s.orders,
        "price_difference_bps": _distribution(s.price_difference_bps),
        "quantity_difference": money_str(s.quantity_difference),
        "first_fill_difference_ms": _distribution(s.first_fill_difference_ms),
    }


def _distribution(values: dict[str, Decimal | None]) -> dict[str, str | None]:
    return {name: _text(value) for name, value in values.items()}


Group = Literal["account", "instrument", "venue"]


@router.get(
    "/analytics",
    response_model=AnalyticsOut,
    responses=errors(401, 403, 404, 422),
    summary="Execution quality aggregated by account, instrument and venue over a window",
)
async def aggregate_analytics(
    container: ContainerDep,
    caller: CallerDep,
    group_by: Annotated[list[Group] | None, Query(max_length=3)] = None,
    symbol: Annotated[str | None, Query(pattern=SYMBOL_PATTERN, max_length=32)] = None,
    since: Annotated[AwareDatetime | None, Query(description="orders created at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="orders created before")] = None,
    account_id: Annotated[
        str | None,
        Query(
            pattern=r"^(\*|[A-Za-z0-9][A-Za-z0-9._:-]{0,63})$",
            max_length=64,
            description="Admins only: another account's orders, or `*` for every account's",
        ),
    ] = None,
) -> Response:
    if account_id is None or account_id == caller.account_id:
        accounts = [caller.account]
    else:
        caller.require(ADMIN)
        if account_id == "*":
            accounts = await container.store.accounts.list_accounts()
        else:
            accounts = [await admin.get_account(container, account_id)]
    groups = tuple(dict.fromkeys(group_by or ["instrument", "venue"]))
    start = None if since is None else datetime_to_ns(since)
    end = None if until is None else datetime_to_ns(until)
    result = await analytics.analytics(container, accounts, groups, symbol, start, end)
    items = [
        {
            "key": g.key,
            "orders": g.orders,
            "filled_orders": g.filled_orders,
            "fill_rate": money_str(g.fill_rate),
            "fees": money_str(g.fees),
            "slippage_bps": _distribution(g.slippage_bps),
            "latency_ms": {
                "accept": _distribution(g.accept_ms),
                "first_fill": _distribution(g.first_fill_ms),
                "complete": _distribution(g.complete_ms),
            },
            "shadow": _shadow_group(g.shadow),
        }
        for g in result
    ]
    body = {
        "group_by": list(groups),
        "since": None if start is None else ns_to_rfc3339(start),
        "until": None if end is None else ns_to_rfc3339(end),
        "items": items,
    }
    return json_response(orjson.dumps(body))
