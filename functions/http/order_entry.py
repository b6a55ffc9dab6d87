"""The hot path of order entry: `POST /api/orders` served without FastAPI's request machinery.

Placing orders is most of an OMS's traffic, and per request FastAPI's routing, dependency
solving and middleware layers cost more CPU than the order's own checks and store write.
This ASGI app, in front of the whole FastAPI stack, serves the common case directly: a
JSON body that the `PlaceOrder` model accepts, an X-API-Key, no Idempotency-Key. It runs
the same code as the route (the same authentication, model, service call, view and
problem responses), so the two can not disagree on anything but speed.

Everything else goes to the FastAPI route unchanged, with the body it read replayed: a
body FastAPI must judge (not JSON, invalid, too large), a request without an API key or with
an Idempotency-Key, any other path or method. A declared Content-Length past the limit goes
there before a byte of the body is read: the app's size limit answers 413 at once, where
waiting for a body the client may hold back until it hears an answer would hang both.
Authentication failures fall back as well (authenticating changes nothing, so doing it
twice is harmless). Once the service is called, the answer is this path's: its
ServiceError gets the same problem+json the app's handler renders, and an unexpected error
is logged and gets the app's 500 problem.
"""

from __future__ import annotations

import logging

import orjson
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.problems import (
    MAX_BODY_BYTES,
    internal_error_problem,
    service_problem,
    unavailable_problem,
)
from functions.requests import order_request
from functions.runtime import ContainerProvider
from functions.schemas import PlaceOrder
from shared.ports.store_errors import StoreUnavailable
from shared.services import placing
from shared.services.auth import authenticate
from shared.services.errors import ServiceError
from shared.services.views import order_view

log = logging.getLogger(__name__)

PATH = "/api/orders"
_JSON_TYPES = (b"application/json", b"application/json; charset=utf-8")
_RESPONSE_HEADERS = [(b"content-type", b"application/json")]


def serves(scope: Scope) -> bool:
    """Whether the request is one this path may take (the others never reach it)."""
    return bool(scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST")


class OrderEntryFastPath:
    """Serves a `serves()` request itself when it can, else hands it to `app` (the API)."""

    def __init__(self, app: ASGIApp, provider: ContainerProvider) -> None:
        self.app = app
        self.provider = provider

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        api_key, eligible = _headers_of(scope)
        if not eligible or api_key is None:
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        if body is None:  # the client went away: nobody to answer
            return
        if more:
            await self.app(scope, _replay(body, more, receive), send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            served = await self._place(scope, watched, api_key, body)
        except Exception:
            log.exception("unhandled error on POST %s", PATH)
            if not started:
                await internal_error_problem()(scope, _no_body, send)
            return
        if not served:
            await self.app(scope, _replay(body, more, receive), send)

    async def _place(self, scope: Scope, send: Send, api_key: str, body: bytes) -> bool:
        """Serve the request; False (nothing sent) when the FastAPI route should."""
        try:
            place = PlaceOrder.model_validate(orjson.loads(body))
        except (orjson.JSONDecodeError, ValidationError):
            return False
        container = await self.provider.get()
        try:
            caller = await authenticate(
                container, api_key=api_key, client_principal=None, trust_principal=False
            )
        except (ServiceError, StoreUnavailable):
            return False
        try:
            placed = await placing.place_order(container, caller.account, order_request(place))
        except ServiceError as error:
            await service_problem(error)(scope, _no_body, send)
            return True
        except StoreUnavailable:
            await unavailable_problem()(scope, _no_body, send)
            return True
        content = orjson.dumps(order_view(placed.order, placed.instrument, placed.legs))
        headers = [*_RESPONSE_HEADERS, (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": 202, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        return True


def _headers_of(scope: Scope) -> tuple[str | None, bool]:
    """(the X-API-Key, whether this path may serve the request)."""
    api_key: str | None = None
    json_body = False
    for name, value in scope["headers"]:
        if name == b"x-api-key":
            if api_key is not None:
                return None, False  # repeated: let FastAPI decide which one counts
            try:
                api_key = value.decode("ascii")
            except UnicodeDecodeError:
                return None, False
        elif name == b"content-type":
            json_body = value.lower() in _JSON_TYPES
        elif name == b"content-length" and (not value.isdigit() or int(value) > MAX_BODY_BYTES):
            return None, False  # the app's size limit answers it without reading the body
        elif name in (b"idempotency-key", b"x-ms-client-principal", b"transfer-encoding"):
            return None, False
    return api_key, json_body


async def _read_body(receive: Receive) -> tuple[bytes | None, bool]:
    """(the body, whether it is longer than the limit); body None if the client left."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None, False
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if size > MAX_BODY_BYTES:
            return b"".join(chunks), True
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, more: bool, receive: Receive) -> Receive:
    """A receive that hands out the body read so far, then the rest of the client's stream."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": more}

    return replayed


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
