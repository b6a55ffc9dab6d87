"""Telemetry as a process sets it up from its environment: over OTLP when
OTEL_EXPORTER_OTLP_ENDPOINT is set (to a real HTTP receiver here), and with nothing set,
off without importing the OpenTelemetry SDK at all (a cheap start)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]

# A process that sets telemetry up, places one traced request's worth of spans and counts,
# and shuts down (which flushes the exporters).
PROGRAM = """
import json, sys
from opentelemetry.trace import SpanKind
from shared.config.settings import Settings
from shared.observability import metrics, tracing
from shared.observability.setup import setup_telemetry

telemetry = setup_telemetry(Settings(), "oms-test", log_stream=None)
with tracing.root_span("POST /api/orders", SpanKind.SERVER):
    with tracing.child_span("intake place", attributes={tracing.ORDER_ID: "o-1"}):
        metrics.order_accepted(0.002)
telemetry.shutdown()
print(json.dumps({
    "tracing": telemetry.tracing,
    "metrics": telemetry.metrics,
    "sdk_imported": "opentelemetry.sdk.trace" in sys.modules,
}))
"""


def run_program(env: dict[str, str]) -> dict[str, bool]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OMS_", "OTEL_"))}
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        env={**base, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome: dict[str, bool] = json.loads(result.stdout.strip().splitlines()[-1])
    return outcome


@pytest.fixture
async def collector() -> AsyncIterator[tuple[str, dict[str, list[bytes]]]]:
    """An OTLP/HTTP receiver on a loopback port, keeping what it is sent."""
    received: dict[str, list[bytes]] = {"traces": [], "metrics": []}

    async def export(request: web.Request) -> web.Response:
        received[request.match_info["signal"]].append(await request.read())
        return web.Response(body=b"", content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/{signal}", export)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        await runner.cleanup()


async def test_with_an_otlp_endpoint_traces_and_metrics_go_there(
    collector: tuple[str, dict[str, list[bytes]]],
) -> None:
    url, received = collector
    outcome = await asyncio.to_thread(
        run_program, {"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OMS_METRICS": "true"}
    )
    assert outcome == {"tracing": True, "metrics": True, "sdk_imported": True}
    spans = []
    for body in received["traces"]:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}[
                "service.name"
            ]
            for scope in resource_spans.scope_spans:
                spans += [(service, s.name) for s in scope.spans]
    assert sorted(spans) == [("oms-test", "POST /api/orders"), ("oms-test", "intake place")]
    names = {
        metric.name
        for body in received["metrics"]
        for rm in ExportMetricsServiceRequest.FromString(body).resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    }
    assert {"oms.orders.accepted", "oms.order.acceptance.duration"} <= names


def test_with_nothing_set_telemetry_is_off_and_the_sdk_never_imported() -> None:
    assert run_program({}) == {"tracing": False, "metrics": False, "sdk_imported": False}
