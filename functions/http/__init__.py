"""The HTTP API: a FastAPI app served by `func.AsgiFunctionApp` in Azure and uvicorn locally."""

from __future__ import annotations

from fastapi import FastAPI

from functions import problems
from functions.http import admin, feeds, health, openapi, orders, queries
from functions.runtime import ContainerProvider


def create_app(provider: ContainerProvider) -> FastAPI:
    """The API app. It builds nothing: the provider makes the container on first use."""
    app = FastAPI(
        title="OMS",
        version="1.0.0",
        description="Order management: orders, executions, positions, instruments, admin.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.provider = provider
    for module in (orders, queries, admin, feeds, health):
        app.include_router(module.router)
    problems.install(app)
    openapi.install(app)
    app.add_middleware(problems.BodySizeLimit)
    return app
