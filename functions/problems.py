"""RFC 9457 problem+json for every error, each naming a stable reason code and the field."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.domain import reasons
from shared.observability import metrics
from shared.ports.store_errors import StoreUnavailable
from shared.services import codes
from shared.services.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RateLimited,
    ServiceError,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
MAX_BODY_BYTES = 64 * 1024

_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (RateLimited, 429),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidRequest, 422),
    (Unavailable, 503),
)

# Which reason a malformed value of a field gets (else INVALID_VALUE).
_FIELD_REASONS = {
    "quantity": reasons.INVALID_QUANTITY,
    "limit_price": reasons.INVALID_PRICE,
    "stop_price": reasons.INVALID_PRICE,
    "trail_amount": reasons.INVALID_TRAIL,
    "trail_percent": reasons.INVALID_TRAIL,
    "side": reasons.INVALID_SIDE,
    "type": reasons.INVALID_ORDER_TYPE,
    "time_in_force": reasons.INVALID_TIME_IN_FORCE,
    "stp": reasons.INVALID_STP_MODE,
}


def problem(
    status: int,
    reason: str,
    detail: str,
    field: str | None = None,
    *,
    errors: Sequence[dict[str, object]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:oms:problem:{reason.lower().replace('_', '-')}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "reason": reason,
        "field": field,
    }
    if errors:
        body["errors"] = list(errors)
    return Response(orjson.dumps(body), status, headers=headers, media_type=MEDIA_TYPE)


def status_of(error: ServiceError) -> int:
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 422  # risk refusals and the rest


def service_problem(error: ServiceError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = 'ApiKey header="X-API-Key"'
    return problem(status_of(error), error.reason, error.detail, error.field, headers=headers)


def internal_error_problem() -> Response:
    return problem(500, codes.INTERNAL_ERROR, "an internal error occurred")


def unavailable_problem() -> Response:
    return problem(503, codes.SERVICE_UNAVAILABLE, "the database is unavailable; retry")


def _field(loc: Sequence[int | str]) -> str | None:
    # `@...` parts are the tags of a union's branches (functions.schemas), not fields.
    parts = [
        str(p)
        for p in loc
        if p not in ("body", "query", "path", "header") and not str(p).startswith("@")
    ]
    return ".".join(parts) or None


def _reason(error: dict[str, Any], field: str | None) -> str:
    kind = str(error.get("type", ""))
    if kind == "missing":
        return codes.MISSING_FIELD
    if kind == "extra_forbidden":
        return codes.UNKNOWN_FIELD
    if kind in ("json_invalid", "model_attributes_type", "dict_type") and not field:
        return codes.INVALID_JSON
    leaf = (field or "").rsplit(".", 1)[-1]
    return _FIELD_REASONS.get(leaf, codes.INVALID_VALUE)


def validation_problem(exc: RequestValidationError) -> Response:
    errors: list[dict[str, object]] = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            # Its loc is the byte offset where decoding stopped, not a field of the request.
            position = error.get("loc", ("body", "?"))[-1]
            detail = f"the body is not a JSON document ({error.get('msg')} at byte {position})"
            errors.append({"reason": codes.INVALID_JSON, "field": None, "detail": detail})
            continue
        field = _field(error.get("loc", ()))
        reason = _reason(error, field)
        if reason == codes.UNKNOWN_FIELD:
            detail = f"{field} is not a field of this request (or is set by the server)"
        else:
            detail = str(error.get("msg", "invalid"))
        errors.append({"reason": reason, "field": field, "detail": detail})
    first = errors[0] if errors else {"reason": codes.VALIDATION_FAILED, "field": None}
    detail = str(first.get("detail", "the request is not valid"))
    return problem(422, str(first["reason"]), detail, first["field"], errors=errors)  # type: ignore[arg-type]


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(ServiceError)
    async def on_service_error(request: Request, exc: ServiceError) -> Response:
        return service_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        response = validation_problem(exc)
        if request.method == "POST" and request.url.path == "/api/orders":
            metrics.order_refused(orjson.loads(response.body)["reason"])  # an order refused
        return response

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # FastAPI could not read the body (not UTF-8, ...)
            if request.method == "POST" and request.url.path == "/api/orders":
                metrics.order_refused(codes.INVALID_JSON)
            return problem(422, codes.INVALID_JSON, "the body is not a JSON document")
        reason = {
            404: codes.NOT_FOUND,
            405: codes.METHOD_NOT_ALLOWED,
            413: codes.BODY_TOO_LARGE,
        }.get(exc.status_code, codes.INVALID_VALUE)
        return problem(exc.status_code, reason, str(exc.detail), headers=exc.headers)

    @app.exception_handler(StoreUnavailable)
    async def on_unavailable(request: Request, exc: StoreUnavailable) -> Response:
        return unavailable_problem()

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return internal_error_problem()


class BodySizeLimit:
    """ASGI middleware: a request body over `limit` bytes gets a 413 problem. A declared
    Content-Length is refused before any byte is read; a streamed body when it passes it."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._too_large()(scope, receive, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise StarletteHTTPException(413, self._detail())
            return message

        await self.app(scope, limited_receive, send)

    def _detail(self) -> str:
        return f"the request body is larger than {self.limit} bytes"

    def _too_large(self) -> Response:
        return problem(413, codes.BODY_TOO_LARGE, self._detail())
