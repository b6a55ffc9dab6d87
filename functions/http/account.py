"""The caller's money: balances, buying power and P&L."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from functions.http.deps import CallerDep, ContainerDep
from functions.http.openapi import errors
from functions.http.views import json_response
from functions.schemas_money import AccountMoneyOut
from shared.services import balances
from shared.services.money_views import account_money_view

router = APIRouter(prefix="/api", tags=["account"])


@router.get(
    "/account",
    response_model=AccountMoneyOut,
    responses=errors(401),
    summary="The caller's cash (settled and not), market value, equity, buying power and P&L",
)
async def get_account_money(container: ContainerDep, caller: CallerDep) -> Response:
    money = await balances.account_money(container, caller.account, container.clock())
    return json_response(orjson.dumps(account_money_view(money)))
