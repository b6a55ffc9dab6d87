"""`/v2/account` and `/v2/account/activities` (the account's fills)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from functions.alpaca.deps import CallerDep, ContainerDep, PageReaderDep
from functions.alpaca.shapes import json_response
from shared.alpaca.account import alpaca_account
from shared.alpaca.activities import activity_id, activity_time, fill_activity
from shared.alpaca.generations import current
from shared.bootstrap import Container
from shared.ports.store_executions import Execution
from shared.ports.store_paging import MAX_PAGE_SIZE, encode_cursor
from shared.services import codes, queries
from shared.services.errors import InvalidRequest
from shared.services.views import datetime_to_ns

router = APIRouter(prefix="/v2", tags=["alpaca"])

_TRADE_ACTIVITIES = {"FILL"}


@router.get("/account")
async def get_account(container: ContainerDep, caller: CallerDep) -> Response:
    return json_response(await alpaca_account(container, caller.account))


async def _cursor_of(container: Container, account_id: str, token: str) -> str:
    """The store cursor after the activity `token` names; InvalidRequest if it names none."""
    found = activity_time(token)
    if found is not None:
        start, _ = found
        page = await queries.list_executions(
            container, account_id, since=start, until=start + 1_000_000, limit=MAX_PAGE_SIZE
        )
        for execution in page.items:
            if activity_id(execution) == token:
                return encode_cursor(execution.executed_at, execution.execution_id)
    raise InvalidRequest(codes.INVALID_CURSOR, "page_token is not an activity id", "page_token")


async def _fills(
    container: Container,
    account_id: str,
    since: int | None,
    until: int | None,
    page_size: int,
    page_token: str | None,
    oldest_first: bool,
) -> list[Execution]:
    if not oldest_first:
        cursor = None if page_token is None else await _cursor_of(container, account_id, page_token)
        page = await queries.list_executions(
            container, account_id, since=since, until=until, limit=page_size, cursor=cursor
        )
        return page.items
    # The store lists newest first: oldest first walks the whole window.
    everything: list[Execution] = []
    cursor = None
    while True:
        page = await queries.list_executions(
            container, account_id, since=since, until=until, limit=MAX_PAGE_SIZE, cursor=cursor
        )
        everything.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    everything.reverse()
    if page_token is not None:
        ids = [activity_id(e) for e in everything]
        if page_token not in ids:
            raise InvalidRequest(codes.INVALID_CURSOR, "page_token is not an activity id")
        everything = everything[ids.index(page_token) + 1 :]
    return everything[:page_size]


async def _activities(
    container: Container, account_id: str, fills: list[Execution]
) -> list[object]:
    instruments = queries.Instruments(container)
    out: list[object] = []
    cumulative: dict[str, dict[str, int]] = {}
    for execution in fills:
        order = await container.store.orders.get(account_id, execution.order_id)
        if order is None:
            continue
        if execution.order_id not in cumulative:
            running, cum = {}, 0
            for fill in await container.store.executions.list_by_order(account_id, order.order_id):
                cum += fill.quantity
                running[fill.execution_id] = cum
            cumulative[execution.order_id] = running
        cum_qty = cumulative[execution.order_id].get(execution.execution_id, order.cum_qty)
        instrument = await instruments.get(execution.symbol)
        out.append(
            fill_activity(execution, instrument, current(order).alpaca_id, order.quantity, cum_qty)
        )
    return out


def _window(
    day: date | None, after: datetime | None, until: datetime | None
) -> tuple[int | None, int | None]:
    if day is not None:
        start = datetime.combine(day, time(), tzinfo=UTC)
        return datetime_to_ns(start), datetime_to_ns(start + timedelta(days=1))
    since = None if after is None else datetime_to_ns(after) + 1
    return since, None if until is None else datetime_to_ns(until)


async def _list(
    container: Container,
    account_id: str,
    types: set[str],
    day: date | None,
    after: datetime | None,
    until: datetime | None,
    direction: str,
    page_size: int,
    page_token: str | None,
) -> Response:
    if not types & _TRADE_ACTIVITIES:
        return json_response([])  # the OMS records no other kind of activity yet
    since, before = _window(day, after, until)
    fills = await _fills(
        container, account_id, since, before, page_size, page_token, direction == "asc"
    )
    return json_response(await _activities(container, account_id, fills))


PageSize = Annotated[int, Query(ge=1, le=100)]
Direction = Literal["asc", "desc"]
Token = Annotated[str | None, Query(max_length=200)]


@router.get("/account/activities")
async def list_activities(
    container: ContainerDep,
    caller: PageReaderDep,
    activity_types: Annotated[str | None, Query(max_length=500)] = None,
    date: date | None = None,
    after: datetime | None = None,
    until: datetime | None = None,
    direction: Direction = "desc",
    page_size: PageSize = 100,
    page_token: Token = None,
) -> Response:
    types = {t.strip().upper() for t in activity_types.split(",")} if activity_types else {"FILL"}
    return await _list(
        container, caller.account_id, types, date, after, until, direction, page_size, page_token
    )


@router.get("/account/activities/{activity_type}")
async def list_activities_of_type(
    activity_type: Annotated[str, Path(max_length=20)],
    container: ContainerDep,
    caller: PageReaderDep,
    date: date | None = None,
    after: datetime | None = None,
    until: datetime | None = None,
    direction: Direction = "desc",
    page_size: PageSize = 100,
    page_token: Token = None,
) -> Response:
    return await _list(
        container,
        caller.account_id,
        {activity_type.upper()},
        date,
        after,
        until,
        direction,
        page_size,
        page_token,
    )
