"""The caller's own account: who a key belongs to and what it may do."""

from __future__ import annotations

from fastapi import APIRouter

from functions.http.deps import CallerDep
from functions.http.openapi import errors
from functions.schemas import AccountOut
from shared.services.views import account_view

router = APIRouter(prefix="/api", tags=["queries"])


@router.get(
    "/me",
    response_model=AccountOut,
    responses=errors(401),
    summary="The caller's account: id, name, type, roles, trading state and risk limits",
)
async def me(caller: CallerDep) -> AccountOut:
    """What a client needs to know about its own key, without the admin role: the web page
    shows its account and offers the admin views only when `roles` has `admin`."""
    view = account_view(caller.account)
    view["roles"] = sorted(caller.roles)
    return AccountOut.model_validate(view)
