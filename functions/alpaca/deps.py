"""The caller of the Alpaca API: `APCA-API-KEY-ID` (the account id) and `APCA-API-SECRET-KEY`
(the account's API key), checked by the same authentication as the native API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from functions.http.deps import get_container
from shared.bootstrap import Container
from shared.services import codes
from shared.services.auth import Caller, authenticate
from shared.services.errors import Unauthenticated

ContainerDep = Annotated[Container, Depends(get_container)]


async def caller_of(container: Container, key_id: str | None, secret: str | None) -> Caller:
    """The caller these Alpaca credentials name; Unauthenticated when they do not."""
    if not key_id or not secret:
        detail = "request is not authorized: send APCA-API-KEY-ID and APCA-API-SECRET-KEY"
        raise Unauthenticated(codes.UNAUTHENTICATED, detail)
    caller = await authenticate(
        container, api_key=secret, client_principal=None, trust_principal=False
    )
    if caller.account_id != key_id:
        detail = "request is not authorized: the key id is not the secret key's account"
        raise Unauthenticated(codes.UNAUTHENTICATED, detail)
    return caller


async def get_caller(request: Request) -> Caller:
    container = await get_container(request)
    headers = request.headers
    return await caller_of(
        container, headers.get("apca-api-key-id"), headers.get("apca-api-secret-key")
    )


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_page_reader(request: Request, caller: CallerDep) -> AsyncIterator[Caller]:
    """The caller, admitted to a page read by the process's read gate (the same fairness
    as the native API's page reads: shared.services.read_gate) while the route runs."""
    container = await get_container(request)
    async with container.read_gate.admit(caller.account_id):
        yield caller


PageReaderDep = Annotated[Caller, Depends(get_page_reader)]
