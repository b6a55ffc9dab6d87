"""One trace per command, across the bus and the batch stages, with only sampled traces
propagated: the tracing helpers driven the way intake, matcher and projector drive them,
over the in-memory bus and the Functions trigger mapping."""

from __future__ import annotations

import itertools

import orjson
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

from shared.adapters.bus_functions import from_functions_message, to_functions_message
from shared.adapters.bus_memory import InMemoryBus, QueueOptions
from shared.domain.commands import NewOrder
from shared.messages import EventBatch, command_message, event_batch_message
from shared.observability import tracing
from shared.ports.bus import BusMessage
from tests.support.telemetry import by_trace, captured_spans


def new_order(n: int) -> NewOrder:
    return NewOrder(
        f"o{n}.new", n, "AAPL", f"o{n}", "acc-1", "buy", "limit", "gtc", 10, 19000, 0, 0,
        "cancel_newest", "internal",
    )  # fmt: skip


def placed(n: int) -> BusMessage:
    """What intake sends for order n: its command, in the request's trace."""
    with (
        tracing.root_span("POST /api/orders", SpanKind.SERVER),
        tracing.child_span("orders send", SpanKind.PRODUCER),
    ):
        return command_message(new_order(n), tracing.carrier())


async def test_a_command_keeps_its_trace_through_bus_matcher_stages_and_projector():
    bus = InMemoryBus(
        {"orders": QueueOptions(requires_session=True), "executions": QueueOptions(True)}
    )
    with captured_spans() as exported:
        await bus.send("orders", [placed(1), placed(2)])
        receiver = await bus.accept_session("orders")
        assert receiver is not None
        received = await receiver.receive(10)
        # The matcher: one span per command, then each batch stage per traced command.
        with tracing.consuming_commands(received, "AAPL"):
            keys = [m.message_id for m in received]
            for n, key in enumerate(keys, 1):
                tracing.annotate(key, {tracing.ORDER_ID: f"o{n}", tracing.SEQ_FIRST: n})
            with tracing.stage("journal append", keys):
                pass
            with tracing.stage("executions publish", keys, SpanKind.PRODUCER):
                batch = EventBatch("AAPL", "o2.new", 1, 2, ())
                await bus.send("executions", [event_batch_message(batch, tracing.carry(keys))])
        # The projector, fed as the Functions host feeds the trigger.
        projector = await bus.accept_session("executions")
        assert projector is not None
        (message,) = await projector.receive()
        trigger = to_functions_message(message)
        properties = trigger.application_properties
        with tracing.consuming_batch("projector apply", properties), tracing.stage("feed push"):
            pass
        spans = exported.get_finished_spans()
    traces = by_trace(spans)
    assert len(traces) == 2
    for trace_spans in traces.values():
        names = sorted(s.name for s in trace_spans)
        assert names == sorted(
            [
                "POST /api/orders",
                "orders send",
                "matcher new_order",
                "journal append",
                "executions publish",
                "projector apply",
                "feed push",
            ]
        )
        by_name = {s.name: s for s in trace_spans}
        order_id = by_name["matcher new_order"].attributes[tracing.ORDER_ID]  # type: ignore[index]
        for name in ("journal append", "executions publish", "projector apply", "feed push"):
            assert by_name[name].attributes[tracing.ORDER_ID] == order_id  # type: ignore[index]
        # Each stage hangs under the one before it.
        chain = [
            "POST /api/orders",
            "orders send",
            "matcher new_order",
            "executions publish",
            "projector apply",
            "feed push",
        ]
        for parent, child in itertools.pairwise(chain):
            up, context = by_name[child].parent, by_name[parent].context
            assert up is not None and context is not None
            assert up.span_id == context.span_id, child


def test_an_unsampled_request_sends_no_context_and_consumers_start_no_trace():
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.set_tracer(provider.get_tracer("tests"))
    try:
        message = placed(1)
        assert tracing.TRACEPARENT not in message.application_properties
        with tracing.consuming_commands([message], "AAPL"):
            assert not tracing.batch_traced()
            with tracing.stage("journal append"):
                assert tracing.carry([message.message_id]) == {}
    finally:
        tracing.set_tracer(None)
    assert exporter.get_finished_spans() == ()


def test_with_tracing_off_nothing_is_traced_or_carried():
    message = placed(1)
    assert message.application_properties == {"kind": "new_order"}
    with tracing.consuming_commands([message], "AAPL"):
        assert tracing.carry([message.message_id]) == {}
    assert from_functions_message(to_functions_message(message)) == message


def test_a_batch_message_names_each_traced_command_and_the_first_in_traceparent():
    with captured_spans():
        messages = [placed(1), placed(2)]
        with (
            tracing.consuming_commands(messages, "AAPL"),
            tracing.stage("executions publish"),
        ):
            carried = tracing.carry([m.message_id for m in messages])
    listed = orjson.loads(carried[tracing.BATCH_TRACES])
    assert [attributes[tracing.COMMAND_ID] for _, attributes in listed] == ["o1.new", "o2.new"]
    assert carried[tracing.TRACEPARENT] == listed[0][0]
    assert len({tp.split("-")[1] for tp, _ in listed}) == 2  # two traces


def test_rate_limited_sampling_starts_at_most_the_allowed_traces_and_follows_callers():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.set_tracer(provider.get_tracer("tests"), new_traces_per_second=3.0)
    try:
        for _ in range(50):  # a burst, well within a second
            with tracing.root_span("POST /api/orders", SpanKind.SERVER):
                pass
        started = len(exporter.get_finished_spans())
        sampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        unsampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
        with tracing.root_span("caller sampled", SpanKind.SERVER, {"traceparent": sampled}):
            pass
        with tracing.root_span("caller unsampled", SpanKind.SERVER, {"traceparent": unsampled}):
            pass
    finally:
        tracing.set_tracer(None)
    assert started == 3
    names = [s.name for s in exporter.get_finished_spans()]
    assert names.count("caller sampled") == 1 and "caller unsampled" not in names
    (continued,) = [s for s in exporter.get_finished_spans() if s.name == "caller sampled"]
    assert continued.context is not None
    assert f"{continued.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"


def test_a_request_the_functions_host_already_traces_continues_its_trace():
    # The Functions worker makes the host's invocation span current before calling us.
    host = SpanContext(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, is_remote=True,
                       trace_flags=TraceFlags(TraceFlags.SAMPLED))  # fmt: skip
    with captured_spans(new_traces_per_second=0.0) as exported:  # no new trace of its own
        with (
            trace.use_span(NonRecordingSpan(host)),
            tracing.root_span("POST /api/orders", SpanKind.SERVER),
        ):
            pass
        unsampled = SpanContext(host.trace_id, host.span_id, is_remote=True)
        with (
            trace.use_span(NonRecordingSpan(unsampled)),
            tracing.root_span("not traced", SpanKind.SERVER),
        ):
            pass
        (span,) = exported.get_finished_spans()
    assert span.name == "POST /api/orders" and span.context is not None
    assert span.context.trace_id == host.trace_id
    assert span.parent is not None and span.parent.span_id == host.span_id
