"""OpenTelemetry traces: one trace per order command, across the bus and the batches.

The HTTP request (or the bot's queued request) is the root. Its sampled context travels in
the bus message's application properties as a W3C `traceparent` (and `tracestate`), so the
matcher's span for the command is its child, whatever the bus: the in-memory bus, Azure
Service Bus, the Functions trigger. The matcher and the projector work in batches; each
batch stage (journal append, executions publish, projection, feed push) gets one span per
sampled command in the batch, timed as the stage and parented by that command's span, so
each trace stays whole. An `executions` message names its sampled commands in `oms-traces`.

Only sampled traces cost anything past the root: an unsampled context is not propagated,
and a consumer starts no trace of its own. With no tracer set (tracing off) every helper
is a `None` check.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager as ContextManager
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
BATCH_TRACES = "oms-traces"
"""Property of an `executions` message: `[[traceparent, {attribute: value}], ...]` of the
sampled commands whose events it carries (JSON)."""

ORDER_ID = "oms.order_id"
COMMAND_ID = "oms.command_id"
SYMBOL = "oms.symbol"
SEQ_FIRST = "oms.seq.first"
SEQ_LAST = "oms.seq.last"

Attributes = dict[str, str | int]

_W3C = TraceContextTextMapPropagator()
_NULL: ContextManager[None] = nullcontext()
NO_SPAN = _NULL
"""What the span helpers return when there is nothing to trace."""
_tracer: Tracer | None = None


class NewTraces:
    """Lets at most `per_second` new traces start (a token bucket holding one second's
    worth): the rate-limited sampling decision, made before any span object exists, so an
    unsampled request costs a clock read instead of a span."""

    __slots__ = ("_at", "_tokens", "per_second")

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self._tokens = per_second
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        tokens = min(self.per_second, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            return True
        self._tokens = tokens
        return False


_new_traces: NewTraces | None = None


def set_tracer(tracer: Tracer | None, new_traces_per_second: float | None = None) -> None:
    """Turn tracing on with `tracer` (None: off). With `new_traces_per_second`, at most
    that many requests a second start a trace (the tracer's sampler then sees only those);
    without, the tracer's sampler decides for every request."""
    global _tracer, _new_traces
    _tracer = tracer
    _new_traces = None if new_traces_per_second is None else NewTraces(new_traces_per_second)


def tracing_on() -> bool:
    return _tracer is not None


def _sampled(traceparent: object) -> bool:
    # W3C: version-traceid-spanid-flags; the sampled bit is the flags' lowest bit.
    return isinstance(traceparent, str) and len(traceparent) == 55 and traceparent[-1] in "13579bdf"


def current_span() -> Span | None:
    """The current span when it is sampled (None otherwise, or with tracing off)."""
    if _tracer is None:
        return None
    span = trace.get_current_span()
    return span if span.is_recording() else None


def carrier() -> dict[str, str]:
    """The current span's context as message properties; empty unless it is sampled."""
    if _tracer is None:
        return {}
    span = trace.get_current_span()
    if not span.get_span_context().trace_flags.sampled:
        return {}
    properties: dict[str, str] = {}
    _W3C.inject(properties)
    return properties


def _context_of(properties: Mapping[str, object]) -> Any:
    carried = {k: str(v) for k in (TRACEPARENT, TRACESTATE) if (v := properties.get(k))}
    return _W3C.extract(carried)


def child_span(
    name: str, kind: SpanKind = SpanKind.INTERNAL, attributes: Attributes | None = None
) -> ContextManager[Span | None]:
    """A span under the current one, if that one is sampled; nothing otherwise."""
    if _tracer is None or not trace.get_current_span().is_recording():
        return _NULL
    return _tracer.start_as_current_span(name, kind=kind, attributes=attributes)


def root_span(
    name: str,
    kind: SpanKind,
    properties: Mapping[str, object] | None = None,
    attributes: Attributes | None = None,
) -> ContextManager[Span | None]:
    """The span of a request from outside: continues the caller's trace when `properties`
    (HTTP headers, message properties) carry a sampled one, else starts one if the rate
    allows (and the sampler agrees); nothing for a caller's unsampled trace."""
    if _tracer is None:
        return _NULL
    traceparent = properties.get(TRACEPARENT) if properties else None
    if traceparent is not None:
        if not _sampled(traceparent):
            return _NULL
        parent = _context_of(properties)  # type: ignore[arg-type]
    elif (host := trace.get_current_span().get_span_context()).is_valid:
        # The Functions worker made the host's invocation current: follow its decision.
        if not host.trace_flags.sampled:
            return _NULL
        parent = None
    elif _new_traces is not None and not _new_traces.take():
        return _NULL
    else:
        parent = None
    return _tracer.start_as_current_span(name, context=parent, kind=kind, attributes=attributes)


# ----------------------------------------------------------------- batches


@dataclass(slots=True)
class _Traced:
    span: Span
    attributes: Attributes


_batch: ContextVar[dict[str, _Traced] | None] = ContextVar("traced_batch", default=None)


def _start(name: str, parent: Any, kind: SpanKind, attributes: Attributes) -> Span:
    assert _tracer is not None
    return _tracer.start_span(name, context=parent, kind=kind, attributes=attributes)


def _end(spans: Iterable[Span], error: BaseException | None) -> None:
    for span in spans:
        if error is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()


@contextmanager
def _batch_of(traced: dict[str, _Traced]) -> Iterator[None]:
    token = _batch.set(traced)
    error: BaseException | None = None
    try:
        yield
    except BaseException as caught:
        error = caught
        raise
    finally:
        _batch.reset(token)
        _end((t.span for t in traced.values()), error)


def consuming_commands(messages: Sequence[Any], symbol: str) -> ContextManager[None]:
    """The matcher's spans for a received batch of command messages (`BusMessage`s, keyed
    by message id = command id): one per message whose context is sampled."""
    if _tracer is None:
        return _NULL
    traced: dict[str, _Traced] = {}
    for message in messages:
        properties = message.application_properties
        if not _sampled(properties.get(TRACEPARENT)):
            continue
        attributes: Attributes = {SYMBOL: symbol, COMMAND_ID: message.message_id}
        name = f"matcher {properties.get('kind', 'command')}"
        span = _start(name, _context_of(properties), SpanKind.CONSUMER, attributes)
        traced[message.message_id] = _Traced(span, attributes)
    return _batch_of(traced) if traced else _NULL


def consuming_batch(name: str, properties: Mapping[str, object]) -> ContextManager[None]:
    """The spans of a consumer of an `executions` message: one per sampled command named in
    its properties, with that command's attributes."""
    if _tracer is None or not _sampled(properties.get(TRACEPARENT)):
        return _NULL
    listed = properties.get(BATCH_TRACES)
    entries: list[tuple[str, Attributes]] = (
        orjson.loads(str(listed)) if listed else [(str(properties[TRACEPARENT]), {})]
    )
    traced: dict[str, _Traced] = {}
    for traceparent, attributes in entries:
        parent = _W3C.extract({TRACEPARENT: traceparent})
        span = _start(name, parent, SpanKind.CONSUMER, attributes)
        traced[traceparent] = _Traced(span, attributes)
    return _batch_of(traced)


def batch_traced() -> bool:
    """Whether the batch in hand has a sampled command (cheap: guard extra work with it)."""
    return _batch.get() is not None


def annotate(key: str, attributes: Attributes) -> None:
    """Add attributes to the span of one command of the batch (no-op if it is not traced)."""
    batch = _batch.get()
    if batch is not None and (traced := batch.get(key)) is not None:
        traced.attributes.update(attributes)
        traced.span.set_attributes(attributes)


def stage(
    name: str, keys: Iterable[str] | None = None, kind: SpanKind = SpanKind.INTERNAL
) -> ContextManager[None]:
    """One span per traced command of the batch (those of `keys`, or all), timed as the
    stage; inside, they are the batch's spans (for nested stages and `carry`)."""
    batch = _batch.get()
    if batch is None:
        return _NULL
    chosen = batch if keys is None else {k: batch[k] for k in keys if k in batch}
    if not chosen:
        return _NULL
    children = {
        key: _Traced(
            _start(name, trace.set_span_in_context(t.span), kind, t.attributes),
            dict(t.attributes),
        )
        for key, t in chosen.items()
    }
    return _batch_of(children)


def carry(keys: Iterable[str]) -> dict[str, str]:
    """Message properties naming the traced commands among `keys` (in the current stage):
    the first as `traceparent`, all in `oms-traces`. Empty when none is traced."""
    batch = _batch.get()
    if batch is None:
        return {}
    entries: list[tuple[str, Attributes]] = []
    for key in keys:
        traced = batch.get(key)
        if traced is not None:
            properties: dict[str, str] = {}
            _W3C.inject(properties, trace.set_span_in_context(traced.span))
            entries.append((properties[TRACEPARENT], traced.attributes))
    if not entries:
        return {}
    return {TRACEPARENT: entries[0][0], BATCH_TRACES: orjson.dumps(entries).decode()}
