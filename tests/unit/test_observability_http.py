"""Every request has an id (the caller's, if valid, else a new one), answered in
X-Request-ID and on the request's log lines; with tracing on it has a span that continues
the caller's sampled traceparent."""

from __future__ import annotations

import httpx
from starlette.types import Receive, Scope, Send

from shared.observability.http import RequestTelemetry
from shared.observability.logs import request_id
from tests.support.telemetry import captured_spans

CALLER_TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    body = str(request_id.get()).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def get(headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=RequestTelemetry(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://oms") as http:
        return await http.get("/api/orders", headers=headers)


async def test_a_request_gets_the_callers_id_or_a_new_one_in_the_header_and_its_logs():
    kept = await get({"X-Request-ID": "client-42"})
    assert kept.headers["x-request-id"] == "client-42" == kept.text
    fresh = await get({})
    invalid = await get({"X-Request-ID": "no spaces <allowed>"})
    for response in (fresh, invalid):
        assert response.headers["x-request-id"] == response.text
        assert response.text not in ("None", "no spaces <allowed>")
    assert fresh.text != invalid.text
    assert request_id.get() is None  # nothing left behind after the request


async def test_with_tracing_on_a_request_continues_the_callers_trace():
    with captured_spans() as exported:
        response = await get({"traceparent": CALLER_TRACE})
        (span,) = exported.get_finished_spans()
    assert response.status_code == 200
    assert span.context is not None and span.parent is not None
    assert f"{span.context.trace_id:032x}" == CALLER_TRACE.split("-")[1]
    assert f"{span.parent.span_id:016x}" == CALLER_TRACE.split("-")[2]
    attributes = span.attributes or {}
    assert attributes["http.response.status_code"] == 200
    assert attributes["oms.request_id"] == response.headers["x-request-id"]
