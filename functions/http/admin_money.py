"""Administration of money (role `admin`): deposits and withdrawals, the cash ledger,
settling a trade by hand, resetting a paper account."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from functions.http.deps import AdminDep, ContainerDep
from functions.http.openapi import errors
from functions.http.views import json_response
from functions.schemas import ID_PATTERN
from functions.schemas_money import (
    CashEntryOut,
    CashEntryPage,
    CashMovement,
    ResetAccount,
    ResetOut,
    SettledTrade,
)
from shared.domain.positions import date_of
from shared.ports.store_errors import InvalidCursor
from shared.ports.store_paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from shared.services import admin, cash, codes, paper_reset, settlement
from shared.services.errors import InvalidRequest
from shared.services.money_views import cash_entry_view
from shared.services.queries import Instruments
from shared.services.views import ns_to_rfc3339

router = APIRouter(prefix="/api/admin", tags=["admin"])

AccountIdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
TradeIdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]


@router.post(
    "/accounts/{account_id}/cash",
    status_code=201,
    response_model=CashEntryOut,
    responses=errors(401, 403, 404, 409, 413, 422),
    summary="Deposit or withdraw cash (audited; once per entry_id)",
)
async def move_cash(
    account_id: AccountIdPath, body: CashMovement, container: ContainerDep, caller: AdminDep
) -> Response:
    account = await admin.get_account(container, account_id)
    entry = await cash.move_cash(
        container,
        account,
        body.kind,
        Decimal(body.amount),
        body.entry_id,
        caller.account_id,
        body.note,
    )
    return json_response(orjson.dumps(cash_entry_view(entry)), 201)


@router.get(
    "/accounts/{account_id}/cash",
    response_model=CashEntryPage,
    responses=errors(401, 403, 404, 422),
    summary="The account's cash ledger, newest first",
)
async def cash_ledger(
    account_id: AccountIdPath,
    container: ContainerDep,
    caller: AdminDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    await admin.get_account(container, account_id)
    try:
        page = await container.store.cash.list_entries(account_id, limit, cursor)
    except InvalidCursor:
        raise InvalidRequest(codes.INVALID_CURSOR, "not a cursor of this API", "cursor") from None
    items = [cash_entry_view(e) for e in page.items]
    return json_response(orjson.dumps({"items": items, "next_cursor": page.next_cursor}))


@router.post(
    "/trades/{trade_id}/settle",
    response_model=SettledTrade,
    responses=errors(401, 403, 404, 422),
    summary="Settle a trade's cash now, before its settlement date (audited; idempotent)",
)
async def settle_trade(
    trade_id: TradeIdPath, container: ContainerDep, caller: AdminDep
) -> SettledTrade:
    executions = await settlement.settle_trade(container, trade_id, caller.account_id)
    now = container.clock()
    return SettledTrade.model_validate(
        {
            "trade_id": trade_id,
            "executions": [
                {
                    "execution_id": e.execution_id,
                    "account_id": e.account_id,
                    "settlement_date": date_of(e.settle_day) if e.settle_day else None,
                    "settled": settlement.is_settled(e, now),
                    "settled_at": ns_to_rfc3339(e.settled_at) if e.settled_at else None,
                }
                for e in executions
            ],
        }
    )


@router.post(
    "/accounts/{account_id}/reset",
    response_model=ResetOut,
    responses={**errors(401, 403, 404, 413, 422), 202: {"model": ResetOut}},
    summary="Reset a paper account: cancel, flatten, restore its starting cash (audited)",
)
async def reset_account(
    account_id: AccountIdPath, body: ResetAccount, container: ContainerDep, caller: AdminDep
) -> Response:
    account = await admin.get_account(container, account_id)
    reset_id = body.reset_id or uuid.uuid4().hex
    started = await paper_reset.start_reset(container, account, reset_id)
    deadline = asyncio.get_running_loop().time() + body.wait_seconds
    while True:
        report = await paper_reset.finish_reset(container, account, reset_id, caller.account_id)
        if report.status == paper_reset.DONE or asyncio.get_running_loop().time() >= deadline:
            break
        await asyncio.sleep(0.05)
    instruments = Instruments(container)
    left: dict[str, str] = {}
    for symbol, quantity in report.positions_left.items():
        text = (await instruments.get(symbol)).quantity_str(abs(quantity))
        left[symbol] = text if quantity > 0 else f"-{text}"
    out = {
        "reset_id": reset_id,
        "status": report.status,
        "canceled_orders": started.canceled,
        "flattening_orders": started.flattening,
        "cash_entry": None if report.entry is None else cash_entry_view(report.entry),
        "positions_left": left,
    }
    return json_response(orjson.dumps(out), 200 if report.status == paper_reset.DONE else 202)
