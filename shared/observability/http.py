"""Every HTTP request: an id (the caller's X-Request-ID, or a new one), answered in the
X-Request-ID header and put on every log line of the request; and, with tracing on, the
request's server span (continuing the caller's `traceparent`, else a new trace)."""

from __future__ import annotations

import itertools
import re
import secrets
from typing import Any

from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.observability import tracing
from shared.observability.logs import request_id

HEADER = b"x-request-id"
_VALID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
_PREFIX = secrets.token_hex(4)  # per process, so ids of two instances never meet
_numbers = itertools.count(1)


def new_request_id() -> str:
    return f"{_PREFIX}-{next(_numbers):x}"


_TRACE_HEADERS = {b"traceparent": "traceparent", b"tracestate": "tracestate"}


def _read_headers(scope: Scope) -> tuple[str, dict[str, str] | None]:
    """(the request id, the caller's trace context if it sent one), in one pass."""
    rid: str | None = None
    carried: dict[str, str] | None = None
    for name, value in scope["headers"]:
        if name == HEADER:
            if rid is None and _VALID.fullmatch(value):
                rid = value.decode("ascii")
        elif name in _TRACE_HEADERS:
            if carried is None:
                carried = {}
            carried[_TRACE_HEADERS[name]] = value.decode("latin-1")
    return rid or new_request_id(), carried


class RequestTelemetry:
    """ASGI middleware in front of the whole API (the order-entry fast path included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid, carried = _read_headers(scope)
        token = request_id.set(rid)
        header = (HEADER, rid.encode("ascii"))
        span: Any = None

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
                if span is not None:
                    span.set_attribute("http.response.status_code", message["status"])
            await send(message)

        try:
            if not tracing.tracing_on():
                await self.app(scope, receive, answer)
                return
            method = scope["method"]
            with tracing.root_span(f"{method} {scope['path']}", SpanKind.SERVER, carried) as span:
                if span is not None:
                    span.set_attributes(
                        {
                            "http.request.method": method,
                            "url.path": scope["path"],
                            "oms.request_id": rid,
                        }
                    )
                await self.app(scope, receive, answer)
                route = scope.get("route")
                if span is not None and route is not None:
                    template = getattr(route, "path", None)
                    if template:
                        span.update_name(f"{method} {template}")
                        span.set_attribute("http.route", template)
        finally:
            request_id.reset(token)
