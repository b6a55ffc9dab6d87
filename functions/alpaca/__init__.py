"""The Alpaca-compatible API: `/v2/...` (Trading API and stock market data) and
`/v1beta3/crypto/...` (crypto market data), on the same app and port as `/api`.

It is its own FastAPI app, served in front of the native one (see `functions.http.OmsApi`),
so every error it gives has Alpaca's body, and it never redirects (alpaca-py refuses
redirects): a path it does not know is Alpaca's 404. The `trade_updates` stream is not here:
a Function App cannot hold a WebSocket (see `alpaca_stream`).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import Scope

from functions.alpaca import account, assets, calendar, errors, market_data, orders, positions
from functions.runtime import ContainerProvider

PREFIXES = ("/v2/", "/v1beta3/")


def serves(scope: Scope) -> bool:
    """Whether the request is for the Alpaca API."""
    path: str = scope.get("path", "")
    return scope["type"] == "http" and (path.startswith(PREFIXES) or path in ("/v2", "/v1beta3"))


def create_alpaca_app(provider: ContainerProvider) -> FastAPI:
    """The Alpaca API app; like the native one, it builds nothing until the first request."""
    app = FastAPI(
        title="OMS (Alpaca-compatible API)",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.provider = provider
    for module in (orders, positions, assets, account, calendar, market_data):
        app.include_router(module.router)
    errors.install(app)
    app.add_middleware(errors.AlpacaBodySizeLimit)
    return app
