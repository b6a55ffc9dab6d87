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


def _request_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER and _VALID.fullmatch(value):
            return str(value.decode("ascii"))
    return new_request_id()


def _headers(scope: Scope) -> dict[str, str]:
    wanted = (b"traceparent", b"tracestate")
    return {n.decode(): v.decode("latin-1") for n, v in scope["headers"] if n in wanted}


class RequestTelemetry:
    """ASGI middleware in front of the whole API (the order-entry fast path included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id_of(scope)
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
            attributes: tracing.Attributes = {
                "http.request.method": method,
                "url.path": scope["path"],
                "oms.request_id": rid,
            }
            with tracing.root_span(
                f"{method} {scope['path']}", SpanKind.SERVER, _headers(scope), attributes
            ) as span:
                await self.app(scope, receive, answer)
                route = scope.get("route")
                if span is not None and span.is_recording() and route is not None:
                    template = getattr(route, "path", None)
                    if template:
                        span.update_name(f"{method} {template}")
                        span.set_attribute("http.route", template)
        finally:
            request_id.reset(token)
