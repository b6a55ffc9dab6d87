"""The Function App: the HTTP API (FastAPI on AsgiFunctionApp) and the trigger functions.

Thin on purpose: nothing connects here; the container is built on the first request or
trigger (functions.runtime).
"""

from __future__ import annotations

import azure.functions as func

from functions.http import create_app
from functions.runtime import default_provider
from functions.triggers import make_blueprint

provider = default_provider()
app = func.AsgiFunctionApp(app=create_app(provider), http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(make_blueprint(provider))
