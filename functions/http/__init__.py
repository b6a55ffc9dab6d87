"""The HTTP API: a FastAPI app served by `func.AsgiFunctionApp` in Azure and uvicorn locally."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from functions import problems
from functions.http import (
    account,
    admin,
    admin_money,
    feeds,
    health,
    history,
    openapi,
    orders,
    queries,
)
from functions.http.order_entry import OrderEntryFastPath, serves
from functions.runtime import ContainerProvider


class OmsApi(FastAPI):
    """The FastAPI app with order entry's fast path in front of its middleware stack."""

    order_entry: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.order_entry is not None and serves(scope):
            await self.order_entry(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The whole FastAPI stack, without the fast path."""
        await super().__call__(scope, receive, send)


def create_app(provider: ContainerProvider) -> FastAPI:
    """The API app. It builds nothing: the provider makes the container on first use."""
    app = OmsApi(
        title="OMS",
        version="1.0.0",
        description="Order management: orders, executions, positions, instruments, admin.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.provider = provider
    for module in (orders, queries, account, history, admin, admin_money, feeds, health):
        app.include_router(module.router)
    problems.install(app)
    openapi.install(app)
    app.add_middleware(problems.BodySizeLimit)
    app.order_entry = OrderEntryFastPath(app.handle, provider)
    return app
