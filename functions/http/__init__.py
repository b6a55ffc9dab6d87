"""The HTTP API: a FastAPI app served by `func.AsgiFunctionApp` in Azure and uvicorn locally."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from functions import alpaca, problems
from functions.http import (
    account,
    admin,
    admin_money,
    feeds,
    health,
    history,
    me,
    openapi,
    orders,
    queries,
    venues,
    web,
)
from functions.http.order_entry import OrderEntryFastPath, serves
from functions.runtime import ContainerProvider
from shared.observability.http import RequestTelemetry


class OmsApi(FastAPI):
    """The FastAPI app with order entry's fast path and the Alpaca-compatible API in front of
    its middleware stack (each answers its own requests, errors included, in its own way),
    and the request's id and span in front of all of them."""

    order_entry: ASGIApp | None = None
    alpaca: ASGIApp | None = None
    observed: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.observed(scope, receive, send)

    async def route(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.order_entry is not None and serves(scope):
            await self.order_entry(scope, receive, send)
        elif self.alpaca is not None and alpaca.serves(scope):
            await self.alpaca(scope, receive, send)
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
        docs_url=None,  # functions.http.web serves /api/docs from local assets
        redoc_url=None,
        # FastAPI's own OpenTelemetry (a span per dependency, endpoint and serialization,
        # metrics per request) would cost more than a request's work and skip the fast
        # path: RequestTelemetry traces every request once, cheaply.
        telemetry={
            "tracing": False,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "auto_configure": False,
        },
    )
    app.state.provider = provider
    for module in (
        orders,
        queries,
        account,
        history,
        me,
        admin,
        admin_money,
        venues,
        feeds,
        health,
    ):
        app.include_router(module.router)
    problems.install(app)
    openapi.install(app)
    web.install(app)
    app.add_middleware(problems.BodySizeLimit)
    app.order_entry = OrderEntryFastPath(app.handle, provider)
    app.alpaca = alpaca.create_alpaca_app(provider)
    app.observed = RequestTelemetry(app.route)
    return app
