"""The Function App: the HTTP API (FastAPI on AsgiFunctionApp) and the trigger functions.

Thin on purpose: nothing connects here; the container is built on the first request or
trigger (functions.runtime).
"""

from __future__ import annotations

from functions.app import function_app
from functions.http import create_app
from functions.runtime import default_provider

provider = default_provider()
app = function_app(create_app(provider), provider)
