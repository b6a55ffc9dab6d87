"""Telemetry from the settings, once per process: logs always; traces and metrics when a
destination asks for them, and nothing of the OpenTelemetry SDK imported otherwise.

- APPLICATIONINSIGHTS_CONNECTION_STRING (Azure): `azure-monitor-opentelemetry` exports the
  traces, the metrics and the logs to Application Insights, authenticated with the app's
  managed identity (the resource accepts Entra ID tokens only). In the Function App the
  Functions worker configures it first (PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY); its
  providers are then used as they are.
- OTEL_EXPORTER_OTLP_ENDPOINT (the standard OpenTelemetry variable, with the other OTEL_*
  ones): traces and metrics over OTLP/HTTP, e.g. to a local collector or Jaeger.
- OMS_METRICS with `prometheus=True` (the local run): a Prometheus registry for
  `/api/metrics`.

Sampling: OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG as the OpenTelemetry SDK reads them;
unset, both destinations keep at most 5 new traces a second (Azure Monitor's default rate
limited sampler), so tracing costs little under load. A sampled trace is kept whole.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from shared.config.settings import Settings
from shared.observability import metrics, tracing
from shared.observability.logs import configure_logging, protect_handlers
from shared.observability.redaction import SECRET_SETTINGS

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

log = logging.getLogger(__name__)

INSTRUMENTATIONS_OFF = (
    "azure_sdk",
    "django",
    "fastapi",
    "flask",
    "psycopg2",
    "requests",
    "urllib",
    "urllib3",
)
RATE_LIMITED = "microsoft.rate_limited"
DEFAULT_TRACES_PER_SECOND = 5.0


@dataclass
class Telemetry:
    """What `setup_telemetry` turned on. `shutdown()` flushes and stops the exporters."""

    prometheus: CollectorRegistry | None = None
    tracing: bool = False
    metrics: bool = False
    _stops: list[Callable[[], object]] = field(default_factory=list)

    def shutdown(self) -> None:
        metrics.uninstall()  # the queued histogram values first, then the final exports
        for stop in reversed(self._stops):
            try:
                stop()
            except Exception:  # a flush that fails must not stop the process's shutdown
                log.warning("stopping a telemetry exporter failed", exc_info=True)
        self._stops.clear()
        tracing.set_tracer(None)


def setup_telemetry(
    settings: Settings,
    service: str,
    *,
    prometheus: bool = False,
    log_stream: TextIO | None = sys.stderr,
) -> Telemetry:
    """Configure logs, then traces and metrics for a process named `service`."""
    configure_logging(
        settings.OMS_LOG_LEVEL,
        settings.OMS_LOG_FORMAT,
        secrets={name: getattr(settings, name) for name in SECRET_SETTINGS},
        stream=log_stream,
    )
    otlp = bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    azure = bool(settings.APPLICATIONINSIGHTS_CONNECTION_STRING)
    with_prometheus = prometheus and settings.OMS_METRICS
    if not (otlp or azure or with_prometheus):
        return Telemetry()
    from opentelemetry import metrics as otel_metrics
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource

    telemetry = Telemetry()
    resource = Resource.create({"service.name": service})
    readers: list[Any] = []
    if with_prometheus:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import CollectorRegistry

        telemetry.prometheus = CollectorRegistry()
        readers.append(
            PrometheusMetricReader(registry=telemetry.prometheus, scope_info_enabled=False)
        )
    if azure:
        _azure_monitor(settings, resource, readers)
        tracer_provider: Any = trace.get_tracer_provider()
        meter_provider: Any = otel_metrics.get_meter_provider()
    else:
        tracer_provider = _otlp_tracer_provider(resource) if otlp else None
        meter_provider = None
        if settings.OMS_METRICS and otlp:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
        if readers:
            from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider

            # No exemplars: they cost a look at the current span on every measurement.
            meter_provider = MeterProvider(
                metric_readers=readers,
                resource=resource,
                exemplar_filter=AlwaysOffExemplarFilter(),
            )
            otel_metrics.set_meter_provider(meter_provider)
            telemetry._stops.append(meter_provider.shutdown)
        if tracer_provider is not None:
            trace.set_tracer_provider(tracer_provider)
            telemetry._stops.append(tracer_provider.shutdown)
    if tracer_provider is not None and (otlp or azure):
        tracing.set_tracer(tracer_provider.get_tracer("oms"), _new_traces_per_second())
        telemetry.tracing = True
    if meter_provider is not None and settings.OMS_METRICS:
        metrics.install(meter_provider.get_meter("oms"))
        telemetry.metrics = True
    protect_handlers()  # the Azure Monitor exporter adds a log handler
    destination = "Azure Monitor" if azure else "OTLP"
    log.info(
        "telemetry: traces %s, metrics %s%s",
        destination if telemetry.tracing else "off",
        destination if telemetry.metrics and (azure or otlp) else "not exported",
        ", served at /api/metrics" if telemetry.prometheus is not None else "",
    )
    return telemetry


def _otlp_tracer_provider(resource: Any) -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

    # Rate limited: the requests that may start a trace are chosen before any span exists
    # (tracing.NewTraces), so every one chosen is kept. Another OTEL_TRACES_SAMPLER: the SDK
    # reads it and decides for every request.
    limited = _new_traces_per_second() is not None
    sampler = ParentBased(ALWAYS_ON) if limited else None
    provider = TracerProvider(resource=resource, sampler=sampler)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _new_traces_per_second() -> float | None:
    """New traces a second under the default (or explicit) rate-limited sampling: Azure
    Monitor's `microsoft.rate_limited`, OTEL_TRACES_SAMPLER_ARG per second (default 5)."""
    if os.environ.get("OTEL_TRACES_SAMPLER", "") not in ("", RATE_LIMITED):
        return None
    return float(os.environ.get("OTEL_TRACES_SAMPLER_ARG") or DEFAULT_TRACES_PER_SECOND)


def _azure_monitor(settings: Settings, resource: Any, readers: list[Any]) -> None:
    """Application Insights through Microsoft's distro, unless the host configured it."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return  # the Functions worker did (PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY)
    from azure.identity import DefaultAzureCredential
    from azure.monitor.opentelemetry import configure_azure_monitor

    # Our own spans cover HTTP, the bus and the stores: no library's auto-instrumentation
    # (each would add spans per message and per call). The Function App's worker gets the
    # same list in OTEL_PYTHON_DISABLED_INSTRUMENTATIONS (functionapp.bicep).
    off = {"enabled": False}
    configure_azure_monitor(
        connection_string=settings.APPLICATIONINSIGHTS_CONNECTION_STRING,
        credential=DefaultAzureCredential(managed_identity_client_id=settings.AZURE_CLIENT_ID),
        resource=resource,
        metric_readers=readers,
        enable_live_metrics=False,
        instrumentation_options={name: off for name in INSTRUMENTATIONS_OFF},
    )
