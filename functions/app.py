"""The Function App object: the HTTP API as one anonymous ASGI function, plus the triggers.

The deployed app (`function_app.py`) and the local host build it the same way, so the local
dispatcher reads the very bindings Azure indexes. (A Function App with triggers only would
also make the library warn, on every start, that an HTTP auth level has nothing to apply to.)
"""

from __future__ import annotations

import azure.functions as func
from starlette.types import ASGIApp

from functions.runtime import ContainerProvider
from functions.triggers import make_blueprint


def function_app(api: ASGIApp, provider: ContainerProvider) -> func.AsgiFunctionApp:
    """The Function App serving `api` (authentication is the API's own: API keys or Entra
    ID), with the Service Bus and timer triggers bound to `provider`."""
    app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)
    app.register_functions(make_blueprint(provider))
    return app
