"""Telemetry captured in memory: spans with OpenTelemetry's in-memory exporter, metrics with
a Prometheus registry read as a scraper would, logs as the JSON lines the process writes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from shared.observability import metrics, tracing
from shared.observability.logs import RedactingFilter, configure_logging


@contextmanager
def captured_spans(new_traces_per_second: float | None = None) -> Iterator[InMemorySpanExporter]:
    """Tracing on, finished spans kept in the exporter; every trace sampled unless a rate
    of new traces is given."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.set_tracer(provider.get_tracer("tests"), new_traces_per_second)
    try:
        yield exporter
    finally:
        tracing.set_tracer(None)
        provider.shutdown()


def by_trace(spans: tuple[ReadableSpan, ...]) -> dict[int, list[ReadableSpan]]:
    traces: dict[int, list[ReadableSpan]] = {}
    for span in spans:
        assert span.context is not None
        traces.setdefault(span.context.trace_id, []).append(span)
    return traces


@contextmanager
def prometheus_metrics() -> Iterator[CollectorRegistry]:
    """Metrics on, read through a Prometheus registry of their own."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader

    registry = CollectorRegistry()
    reader = PrometheusMetricReader(registry=registry, scope_info_enabled=False)
    provider = MeterProvider(metric_readers=[reader])
    metrics.install(provider.get_meter("tests"))
    try:
        yield registry
    finally:
        metrics.uninstall()
        provider.shutdown()


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def scrape(registry: CollectorRegistry) -> list[Sample]:
    """What a scraper of /api/metrics reads (the queued histogram values recorded first)."""
    from prometheus_client import generate_latest

    metrics.flush()
    return parse_exposition(generate_latest(registry).decode())


def parse_exposition(text: str) -> list[Sample]:
    """The samples of a Prometheus text exposition."""
    return [
        Sample(s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels` (0 if none)."""
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


@contextmanager
def json_logs(level: str = "DEBUG") -> Iterator[io.StringIO]:
    """The root logger writing JSON lines to a buffer (as the processes do to stderr)."""
    buffer = io.StringIO()
    root = logging.getLogger()
    level_before, handlers_before = root.level, list(root.handlers)
    quiet = {name: logging.getLogger(name).level for name in ("azure", "uvicorn.access")}
    configure_logging(level, "json", stream=buffer)
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            if handler not in handlers_before:
                root.removeHandler(handler)
            for f in list(handler.filters):
                if isinstance(f, RedactingFilter):
                    handler.removeFilter(f)
        root.setLevel(level_before)
        for name, was in quiet.items():
            logging.getLogger(name).setLevel(was)


def log_records(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
