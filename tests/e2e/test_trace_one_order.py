"""One order placed over HTTP on the local run is one trace, from the request through the
bus, the matcher (journal, executions), the projector and the live-feed push to its owner,
every span of it carrying the order id. Spans go to OpenTelemetry's in-memory exporter."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shared.observability import tracing
from tests.e2e.feed_client import PyClient
from tests.e2e.support import LocalOms
from tests.support.telemetry import by_trace, captured_spans

STAGES = {
    "POST /api/orders": SpanKind.SERVER,  # the HTTP request (intake's entrypoint)
    "intake place": SpanKind.INTERNAL,
    "orders send": SpanKind.PRODUCER,  # the bus send
    "matcher new_order": SpanKind.CONSUMER,
    "journal append": SpanKind.INTERNAL,
    "executions publish": SpanKind.PRODUCER,
    "projector apply": SpanKind.CONSUMER,
    "feed push": SpanKind.INTERNAL,  # SignalR to the order's owner
}


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with captured_spans() as exporter:
        yield exporter


async def test_one_order_over_http_is_one_trace_from_intake_to_the_feed(
    local_oms: LocalOms, spans: InMemorySpanExporter
) -> None:
    trader = await local_oms.new_account("e2e-traced")
    client = PyClient.of(local_oms, trader)
    await client.start()
    try:
        order = await local_oms.place(trader, "AAPL", "buy", "1", "180.00")
        order_id = order["order_id"]
        await client.until(
            lambda got: any(
                t == "orderUpdated" and e["data"].get("status") == "new" for t, e in got
            )
        )
        for _ in range(100):  # the projector's span ends right after its last push
            if any(s.name == "projector apply" for s in spans.get_finished_spans()):
                break
            await asyncio.sleep(0.05)
    finally:
        client.stop()

    ours = [
        s
        for s in spans.get_finished_spans()
        if (s.attributes or {}).get(tracing.ORDER_ID) == order_id
    ]
    traces = by_trace(tuple(ours))
    assert len(traces) == 1, {t: [s.name for s in ss] for t, ss in traces.items()}
    (trace_spans,) = traces.values()
    kinds = {s.name: s.kind for s in trace_spans}
    assert kinds == STAGES, sorted(kinds)
    # Nothing of the order in any other trace, and the chain unbroken: every span but the
    # request's has its parent in the same trace.
    ids = {s.context.span_id for s in trace_spans if s.context is not None}
    roots = [s for s in trace_spans if s.parent is None or s.parent.span_id not in ids]
    assert [s.name for s in roots] == ["POST /api/orders"]
    by_name = {s.name: s for s in trace_spans}
    attributes = by_name["matcher new_order"].attributes or {}
    assert attributes[tracing.COMMAND_ID] == f"{order_id}.new"
    assert attributes[tracing.SEQ_FIRST] >= 1  # type: ignore[operator]
    request = by_name["POST /api/orders"].attributes or {}
    assert request["http.response.status_code"] == 202
