"""FastAPI dependencies: the container and the authenticated caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from functions.runtime import ContainerProvider
from shared.bootstrap import Container
from shared.services.auth import ADMIN, Caller, authenticate

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Account API key")


async def get_container(request: Request) -> Container:
    provider: ContainerProvider = request.app.state.provider
    return await provider.get()


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_caller(
    request: Request,
    api_key: Annotated[str | None, Security(api_key_header)] = None,
) -> Caller:
    # The container straight from the provider, not as a sub-dependency: FastAPI's
    # per-request dependency solving costs more than the lookup itself.
    container = await get_container(request)
    return await authenticate(
        container,
        api_key=api_key,
        client_principal=request.headers.get("x-ms-client-principal"),
        trust_principal=container.trust_client_principal,
    )


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_admin(caller: CallerDep) -> Caller:
    caller.require(ADMIN)
    return caller


AdminDep = Annotated[Caller, Depends(get_admin)]


async def get_page_reader(request: Request, caller: CallerDep) -> AsyncIterator[Caller]:
    """The caller, admitted to a page read by the process's read gate (fairness: see
    shared.services.read_gate) for as long as the route runs."""
    container = await get_container(request)
    async with container.read_gate.admit(caller.account_id):
        yield caller


PageReaderDep = Annotated[Caller, Depends(get_page_reader)]
