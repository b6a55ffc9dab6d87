"""Reads: orders, executions, trades, the book, positions, instruments."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime
from starlette.responses import Response

from functions.http.deps import CallerDep, ContainerDep, PageReaderDep
from functions.http.openapi import errors
from functions.http.views import json_response, order_body, orders_body
from functions.schemas import (
    ID_PATTERN,
    SYMBOL_PATTERN,
    BookOut,
    ExecutionPage,
    InstrumentOut,
    InstrumentPage,
    OrderOut,
    OrderPage,
    OrderStatusFilter,
    PositionPage,
    TradePage,
)
from shared.domain.enums import Side
from shared.ports.store_paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from shared.services import balances, queries
from shared.services.money_views import valued_position_view
from shared.services.views import (
    datetime_to_ns,
    execution_view,
    instrument_view,
    ns_to_rfc3339,
    trade_view,
)

router = APIRouter(prefix="/api", tags=["queries"])

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size (capped)")]
Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of a page")]
SymbolPath = Annotated[str, Path(pattern=SYMBOL_PATTERN, max_length=32)]
SymbolQuery = Annotated[str | None, Query(pattern=SYMBOL_PATTERN, max_length=32)]
Since = Annotated[AwareDatetime | None, Query(description="created/executed at or after")]
Until = Annotated[AwareDatetime | None, Query(description="created/executed before")]


def _ns(value: AwareDatetime | None) -> int | None:
    return None if value is None else datetime_to_ns(value)


@router.get(
    "/orders/by-client-id/{client_order_id}",
    response_model=OrderOut,
    responses=errors(401, 404, 422),
    summary="The order carrying a client order id",
)
async def get_order_by_client_id(
    client_order_id: Annotated[str, Path(pattern=ID_PATTERN, max_length=64)],
    container: ContainerDep,
    caller: CallerDep,
) -> Response:
    order = await queries.get_order_by_client_id(container, caller.account_id, client_order_id)
    return json_response(await order_body(container, order))


@router.get(
    "/orders/{order_id}",
    response_model=OrderOut,
    responses=errors(401, 404, 422),
    summary="One order",
)
async def get_order(
    order_id: Annotated[str, Path(pattern=ID_PATTERN, max_length=64)],
    container: ContainerDep,
    caller: CallerDep,
) -> Response:
    order = await queries.get_order(container, caller.account_id, order_id)
    return json_response(await order_body(container, order))


@router.get(
    "/orders",
    response_model=OrderPage,
    responses=errors(401, 422, 429),
    summary="The caller's orders, newest first",
)
async def list_orders(
    container: ContainerDep,
    caller: PageReaderDep,
    status: Annotated[
        list[OrderStatusFilter] | None, Query(max_length=len(OrderStatusFilter))
    ] = None,
    symbol: SymbolQuery = None,
    side: Side | None = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
    nested: Annotated[
        bool,
        Query(
            description="List the orders that are no group's leg (the filters apply to them),"
            " each group's legs under its head; by default every order is listed flat."
        ),
    ] = False,
) -> Response:
    statuses = [s for s in (f.status() for f in status or ()) if s is not None]
    if status and not statuses:
        return json_response(await orders_body(container, [], None))
    page = await queries.list_orders(
        container,
        caller.account_id,
        statuses=statuses,
        symbol=symbol,
        side=side,
        since=_ns(since),
        until=_ns(until),
        limit=limit,
        cursor=cursor,
        top_level=nested,
    )
    return json_response(await orders_body(container, page.items, page.next_cursor, nested))


@router.get(
    "/executions",
    response_model=ExecutionPage,
    responses=errors(401, 422, 429),
    summary="The caller's executions (fills), newest first",
)
async def list_executions(
    container: ContainerDep,
    caller: PageReaderDep,
    symbol: SymbolQuery = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> Response:
    page = await queries.list_executions(
        container,
        caller.account_id,
        symbol=symbol,
        since=_ns(since),
        until=_ns(until),
        limit=limit,
        cursor=cursor,
    )
    instruments = queries.Instruments(container)
    now = container.clock()
    items = [execution_view(e, await instruments.get(e.symbol), now) for e in page.items]
    return json_response(orjson.dumps({"items": items, "next_cursor": page.next_cursor}))


@router.get(
    "/trades",
    response_model=TradePage,
    responses=errors(401, 404, 422, 429),
    summary="An instrument's latest public trades, newest first",
)
async def list_trades(
    container: ContainerDep,
    caller: PageReaderDep,
    symbol: Annotated[str, Query(pattern=SYMBOL_PATTERN, max_length=32)],
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> Response:
    trades = await queries.list_trades(container, symbol, limit)
    instrument = await queries.Instruments(container).get(symbol)
    items = [trade_view(t, instrument) for t in trades]
    return json_response(orjson.dumps({"items": items, "next_cursor": None}))


@router.get(
    "/book/{symbol}",
    response_model=BookOut,
    responses=errors(401, 404, 422),
    summary="The latest L2 book of an instrument",
)
async def get_book(
    symbol: SymbolPath,
    container: ContainerDep,
    caller: CallerDep,
    depth: Annotated[int, Query(ge=1, le=50)] = 5,
) -> BookOut:
    instrument, book = await queries.get_book(container, symbol, depth)

    def levels(rows: list[tuple[int, int, int]]) -> list[dict[str, object]]:
        return [
            {
                "price": instrument.price_str(p),
                "quantity": instrument.quantity_str(q),
                "orders": n,
            }
            for p, q, n in rows
        ]

    return BookOut.model_validate(
        {
            "symbol": book.symbol,
            "seq": book.seq,
            "updated_at": ns_to_rfc3339(book.ts) if book.ts else None,
            "bids": levels(book.bids),
            "asks": levels(book.asks),
        }
    )


@router.get(
    "/positions",
    response_model=PositionPage,
    responses=errors(401, 429),
    summary="The caller's positions, with cost basis, mark, market value and P&L",
)
async def list_positions(container: ContainerDep, caller: PageReaderDep) -> Response:
    money = await balances.account_money(container, caller.account, container.clock())
    items = [valued_position_view(row) for row in money.positions]
    return json_response(orjson.dumps({"items": items, "next_cursor": None}))


@router.get(
    "/instruments",
    response_model=InstrumentPage,
    responses=errors(401),
    summary="Every instrument",
)
async def list_instruments(container: ContainerDep, caller: CallerDep) -> Response:
    items = [instrument_view(i) for i in await queries.list_instruments(container)]
    return json_response(orjson.dumps({"items": items, "next_cursor": None}))


@router.get(
    "/instruments/{symbol}",
    response_model=InstrumentOut,
    responses=errors(401, 404, 422),
    summary="One instrument",
)
async def get_instrument(
    symbol: SymbolPath, container: ContainerDep, caller: CallerDep
) -> Response:
    instrument = await queries.Instruments(container).get(symbol)
    return json_response(orjson.dumps(instrument_view(instrument)))
