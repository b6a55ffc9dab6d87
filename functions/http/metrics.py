"""`GET /api/metrics`: the Prometheus text exposition of the local run's metrics.

Loopback only: answered to clients on 127.0.0.0/8 or ::1 (a Prometheus on the same
machine), 403 to any other address, with or without a key, so a local run started with
OMS_HOST=0.0.0.0 does not publish its figures. In Azure the metrics go to Azure Monitor and
this route does not exist.
"""

from __future__ import annotations

import ipaddress

from fastapi import FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.responses import Response

from functions.problems import problem
from shared.observability import metrics
from shared.services import codes

PATH = "/api/metrics"


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client is not None else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mount_metrics(app: FastAPI, registry: CollectorRegistry) -> None:
    """Serve `registry` at /api/metrics to loopback clients."""

    async def served(request: Request) -> Response:
        if not _loopback(request):
            return problem(403, codes.FORBIDDEN, "metrics are served to loopback clients only")
        metrics.flush()  # the histogram values still queued, so the answer is up to date
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route(PATH, served, methods=["GET"], include_in_schema=False)
