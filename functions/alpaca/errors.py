"""Alpaca's error body, `{"code": <8 digits>, "message": "..."}`, for every error of the
Alpaca API, the framework's own (401, 404, 405, 422) included. The OMS's stable reason code
and the field at fault ride along as `reason` and `field` (clients read `code` and
`message`; Alpaca's own errors carry extra members too).

Statuses follow Alpaca: 403 when the account may not trade this much (buying power) or at
all, 404, 422 for a request the OMS refuses, 429 with a `Retry-After` hint, 400 for a body
that is not JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from functions.problems import BodySizeLimit
from shared.alpaca import codes as alpaca_codes
from shared.domain import reasons
from shared.ports.store_errors import StoreUnavailable
from shared.services import codes
from shared.services.errors import (
    Forbidden,
    NotFound,
    RateLimited,
    ServiceError,
    Unauthenticated,
)

log = logging.getLogger(__name__)

# Refusals that are about what the account may do, not about the request: Alpaca's 403.
FORBIDDEN_REASONS = frozenset(
    {
        codes.INSUFFICIENT_BUYING_POWER,
        reasons.ACCOUNT_HALTED,
        reasons.ACCOUNT_REDUCING_ONLY,
        codes.FORBIDDEN,
        alpaca_codes.INSUFFICIENT_QUANTITY,
    }
)
# The OMS's field names, as Alpaca names them.
FIELD_NAMES = {
    "quantity": "qty",
    "expire_at": "expires_at",
    "order_id": "order_id",
    "trail_amount": "trail_price",
    "stop_loss.trail_amount": "stop_loss.trail_price",
}
_CLIENT_ORDER_ID_TAKEN = (reasons.DUPLICATE_CLIENT_ORDER_ID, codes.IDEMPOTENCY_KEY_REUSED)
_MESSAGES = {
    reasons.DUPLICATE_CLIENT_ORDER_ID: "client_order_id must be unique",
    codes.IDEMPOTENCY_KEY_REUSED: "client_order_id must be unique",
    codes.INSUFFICIENT_BUYING_POWER: "insufficient buying power",
    reasons.RATE_LIMIT_EXCEEDED: "rate limit exceeded",
}


def error(
    status: int,
    message: str,
    reason: str | None = None,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Alpaca's error response: code = the status and 10000 (40410000, 42210000, ...)."""
    body: dict[str, object] = {"code": status * 100_000 + 10_000, "message": message}
    if reason is not None:
        body["reason"] = reason
    if field is not None:
        body["field"] = FIELD_NAMES.get(field, field)
    return Response(
        orjson.dumps(body), status, headers=dict(headers or {}), media_type="application/json"
    )


def status_of(error: ServiceError) -> int:
    if isinstance(error, RateLimited):
        return 429
    if isinstance(error, Unauthenticated):
        return 401
    if isinstance(error, Forbidden) or error.reason in FORBIDDEN_REASONS:
        return 403
    if isinstance(error, NotFound):
        return 404
    if error.reason == codes.INVALID_JSON:
        return 400
    return 422


def service_error(exc: ServiceError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    field = "client_order_id" if exc.reason in _CLIENT_ORDER_ID_TAKEN else exc.field
    message = _MESSAGES.get(exc.reason)
    if message is None and field is not None and not exc.detail.startswith(field):
        message = FIELD_NAMES.get(field, field)
    message = exc.detail if message is None else f"{message}: {exc.detail}"
    return error(status_of(exc), message, exc.reason, field, headers)


def _validation(exc: RequestValidationError) -> Response:
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = ".".join(loc) or None
    kind = str(first.get("type", ""))
    reason = codes.MISSING_FIELD if kind == "missing" else codes.INVALID_VALUE
    if kind == "extra_forbidden":
        reason = codes.UNKNOWN_FIELD
    message = str(first.get("msg", "invalid request"))
    if field:
        message = f"{FIELD_NAMES.get(field, field)}: {message}"
    return error(422, message, reason, field)


def install(app: FastAPI) -> None:
    """Register the handlers that give every error of `app` Alpaca's body."""

    @app.exception_handler(ServiceError)
    async def on_service_error(request: Request, exc: ServiceError) -> Response:
        return service_error(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        return _validation(exc)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        reason = {
            400: codes.INVALID_JSON,
            404: codes.NOT_FOUND,
            405: codes.METHOD_NOT_ALLOWED,
            413: codes.BODY_TOO_LARGE,
        }.get(exc.status_code, codes.INVALID_VALUE)
        message = {404: "endpoint not found", 405: "method not allowed"}.get(
            exc.status_code, str(exc.detail)
        )
        return error(exc.status_code, message, reason, headers=exc.headers)

    @app.exception_handler(StoreUnavailable)
    async def on_unavailable(request: Request, exc: StoreUnavailable) -> Response:
        return error(503, "the database is unavailable; retry", codes.SERVICE_UNAVAILABLE)

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error(500, "internal server error", codes.INTERNAL_ERROR)


class AlpacaBodySizeLimit(BodySizeLimit):
    """The API's request body limit, answered in Alpaca's error body."""

    def _too_large(self) -> Response:
        return error(413, self._detail(), codes.BODY_TOO_LARGE)
