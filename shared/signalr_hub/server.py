"""The local hub as an ASGI app: client negotiate + WebSocket transport, and the REST subset.

Paths are relative to where the app is mounted (see `mount_hub`), mirroring SignalR Service:

    POST {mount}/client/negotiate?hub=H[&negotiateVersion=1]   direct negotiate response
    WS   {mount}/client/?hub=H[&id=<connectionToken>][&access_token=<jwt>]
    POST {mount}/api/hubs/{hub}/:send, /users/{user}/:send, /groups/{group}/:send
    PUT|DELETE {mount}/api/hubs/{hub}/groups/{group}/connections/{connectionId}
    PUT|DELETE {mount}/api/hubs/{hub}/users/{user}/groups/{group}
    POST {mount}/api/hubs/{hub}/:generateToken?userId=U[&minutesToExpire=N]
    and the v1 equivalents under {mount}/api/v1/hubs/{hub}.

Every request carries an access-key JWT (`Authorization: Bearer`, or `access_token` in the
query for WebSockets): client calls with `aud` = the client URL, REST calls with `aud` = the
request URL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from shared.signalr_hub import protocol as p
from shared.signalr_hub.hub import HubConnection, LocalHub
from shared.signalr_hub.tokens import (
    USER_CLAIM,
    TokenError,
    audience_matches,
    client_url,
    sign_token,
    verify_token,
)

HANDSHAKE_TIMEOUT = 15.0


def _bearer(conn: HTTPConnection) -> str:
    header = conn.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return conn.query_params.get("access_token", "")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def _client_claims(hub: LocalHub, conn: HTTPConnection, client_path: str) -> dict[str, object]:
    """Claims of a client token whose audience is this client URL and hub."""
    claims = verify_token(hub.access_key, _bearer(conn))
    if not audience_matches(claims.get("aud"), client_path, conn.query_params.get("hub")):
        raise TokenError("the token's audience is not this hub's client URL")
    return claims


def _user_of(claims: dict[str, object]) -> str | None:
    user = claims.get(USER_CLAIM)
    return user if isinstance(user, str) and user else None


async def negotiate(request: Request) -> Response:
    hub: LocalHub = request.app.state.hub
    hub_name = request.query_params.get("hub")
    if not hub_name:
        return _error(400, "BadRequest", "the 'hub' query parameter is required")
    client_path = request.url.path.removesuffix("negotiate")
    try:
        claims = _client_claims(hub, request, client_path)
    except TokenError as exc:
        return _error(401, "Unauthorized", str(exc))
    return JSONResponse(hub.negotiate(hub_name, _user_of(claims)))


async def _deny(websocket: WebSocket, status: int, message: str) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(_error(status, "Unauthorized", message))
    else:
        await websocket.close(code=1008, reason=message[:120])


async def client_socket(websocket: WebSocket) -> None:
    hub: LocalHub = websocket.app.state.hub
    hub_name = websocket.query_params.get("hub")
    if not hub_name:
        await _deny(websocket, 400, "the 'hub' query parameter is required")
        return
    try:
        claims = _client_claims(hub, websocket, websocket.url.path)
    except TokenError as exc:
        await _deny(websocket, 401, str(exc))
        return
    user_id = _user_of(claims)
    token = websocket.query_params.get("id")
    if token:
        connection_id = hub.claim(hub_name, token, user_id)
        if connection_id is None:
            await _deny(websocket, 404, "No connection with that ID: negotiate again")
            return
    else:  # connecting without negotiate (skipNegotiation, or signalrcore after a redirect)
        connection_id = hub.new_connection_id()
    await websocket.accept()
    rest = await _handshake(websocket)
    if rest is None:
        return
    # Registered before the handshake reply: a message sent once the client sees it arrives.
    conn = hub.connect(hub_name, connection_id, user_id)
    try:
        await websocket.send_text(p.HANDSHAKE_OK)
        await _serve(hub, websocket, conn, rest)
    except (WebSocketDisconnect, OSError):
        pass  # the client went away
    finally:
        hub.disconnect(conn)


async def _receive_text(websocket: WebSocket) -> str | None:
    """The next text or binary frame as text; None when the client went away."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return None
    text = message.get("text")
    if text is not None:
        return str(text)
    data = message.get("bytes") or b""
    return bytes(data).decode("utf-8")


async def _handshake(websocket: WebSocket) -> str | None:
    """Read and check the handshake (text or binary frames); the data after it, or None."""
    buffer = ""
    try:
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            while p.RS not in buffer:
                chunk = await _receive_text(websocket)
                if chunk is None:
                    return None
                buffer += chunk
    except (TimeoutError, UnicodeDecodeError):
        await _safe_close(websocket, 1002)
        return None
    record, _, rest = buffer.partition(p.RS)
    try:
        refusal = p.check_handshake(p.parse_record(record))
    except p.ProtocolError as exc:
        refusal = str(exc)
    if refusal is not None:
        await websocket.send_text(p.handshake_error_record(refusal))
        await _safe_close(websocket, 1002)
        return None
    return rest


async def _safe_close(websocket: WebSocket, code: int = 1000) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code)


async def _serve(hub: LocalHub, websocket: WebSocket, conn: HubConnection, rest: str) -> None:
    loop = asyncio.get_running_loop()
    last_seen = [loop.time()]

    async def read() -> None:
        buffer = rest
        while True:
            records, buffer = p.split_records(buffer)
            for record in records:
                if not _on_client_record(conn, p.parse_record(record)):
                    return
            chunk = await _receive_text(websocket)
            if chunk is None:
                return
            last_seen[0] = loop.time()
            buffer += chunk

    async def write() -> None:
        while (frame := await conn.next_frame()) is not None:
            await websocket.send_text(frame)
        await websocket.send_text(conn.close_frame())
        await _safe_close(websocket)

    async def ping() -> None:
        while True:
            await asyncio.sleep(hub.ping_interval)
            if loop.time() - last_seen[0] > hub.client_timeout:
                conn.close("Server timeout elapsed without receiving a message from the client.")
                return
            conn.push(p.PING_RECORD)

    tasks = [asyncio.create_task(f()) for f in (read, write, ping)]
    try:
        await asyncio.wait(tasks[:2], return_when=asyncio.FIRST_COMPLETED)
        if tasks[0].done() and not tasks[0].cancelled() and tasks[0].exception() is not None:
            conn.close(f"Invalid message: {tasks[0].exception()}")
            await asyncio.wait_for(asyncio.shield(tasks[1]), timeout=1.0)
    except (TimeoutError, WebSocketDisconnect):
        pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await _safe_close(websocket)


def _on_client_record(conn: HubConnection, message: dict[str, Any]) -> bool:
    """Handle one client message; False when the client closed the connection."""
    kind = message.get("type")
    if kind == p.CLOSE:
        return False
    if kind in (p.INVOCATION, p.STREAM_INVOCATION):
        invocation_id = message.get("invocationId")
        if isinstance(invocation_id, str):
            # Serverless mode: clients only listen; tell a waiting caller so it does not hang.
            conn.push(
                p.completion_error_record(
                    invocation_id, "Clients cannot invoke hub methods on this serverless hub."
                )
            )
    return True  # pings, completions, stream items, acks: nothing to do


# REST API.

Handler = Callable[[LocalHub, Request, dict[str, Any]], Awaitable[Response]]


def _rest(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        hub: LocalHub = request.app.state.hub
        try:
            claims = verify_token(hub.access_key, _bearer(request))
        except TokenError as exc:
            return _error(401, "Unauthorized", str(exc))
        if not audience_matches(claims.get("aud"), request.url.path):
            return _error(401, "Unauthorized", "the token's audience is not this request URL")
        return await handler(hub, request, request.path_params)

    return endpoint


async def _payload(request: Request) -> tuple[str, list[object]] | Response:
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "BadRequest", "the body is not JSON")
    target = body.get("target") if isinstance(body, dict) else None
    args = body.get("arguments", []) if isinstance(body, dict) else None
    if not isinstance(target, str) or not target or not isinstance(args, list):
        return _error(400, "BadRequest", "the body needs a 'target' string and 'arguments' list")
    return target, args


async def _send_all(hub: LocalHub, request: Request, params: dict[str, Any]) -> Response:
    payload = await _payload(request)
    if isinstance(payload, Response):
        return payload
    hub.send_to_all(params["hub"], *payload)
    return Response(status_code=202)


async def _send_user(hub: LocalHub, request: Request, params: dict[str, Any]) -> Response:
    payload = await _payload(request)
    if isinstance(payload, Response):
        return payload
    hub.send_to_user(params["hub"], params["user"], *payload)
    return Response(status_code=202)


async def _send_group(hub: LocalHub, request: Request, params: dict[str, Any]) -> Response:
    payload = await _payload(request)
    if isinstance(payload, Response):
        return payload
    hub.send_to_group(params["hub"], params["group"], *payload)
    return Response(status_code=202)


async def _send_connection(hub: LocalHub, request: Request, params: dict[str, Any]) -> Response:
    payload = await _payload(request)
    if isinstance(payload, Response):
        return payload
    hub.send_to_connection(params["hub"], params["connectionId"], *payload)
    return Response(status_code=202)


async def _connection_group(hub: LocalHub, request: Request, params: dict[str, Any]) -> Response:
    args = (params["hub"], params["connectionId"], params["group"])
    if request.method == "PUT":
        found = hub.add_connection_to_group(*args)
    else:
        found = hub.remove_connection_from_group(*args)
    if not found:
        return _error(404, "NotFound", "no such connection")
    return Response(status_code=200)


async def _user_group(hub: LocalHub, request: Request, params: dict[str, Any]) -> Response:
    if request.method == "PUT":
        hub.add_user_to_group(params["hub"], params["user"], params["group"])
        return Response(status_code=200)
    hub.remove_user_from_group(params["hub"], params["user"], params["group"])
    return Response(status_code=204)


async def _close_connection(hub: LocalHub, request: Request, params: dict[str, Any]) -> Response:
    reason = request.query_params.get("reason")
    hub.close_connection(params["hub"], params["connectionId"], reason)
    return Response(status_code=200)


async def _generate_token(hub: LocalHub, request: Request, params: dict[str, Any]) -> Response:
    try:
        minutes = int(request.query_params.get("minutesToExpire", "60"))
    except ValueError:
        return _error(400, "BadRequest", "minutesToExpire must be an integer")
    suffix = f"/api/hubs/{params['hub']}/:generateToken"
    endpoint = str(request.url.replace(query="")).removesuffix(suffix)
    token = sign_token(
        hub.access_key,
        client_url(endpoint, params["hub"]),
        user_id=request.query_params.get("userId") or None,
        ttl_seconds=60 * max(1, minutes),
    )
    return JSONResponse({"token": token})


def _routes() -> list[Route | WebSocketRoute]:
    hubs, v1 = "/api/hubs/{hub}", "/api/v1/hubs/{hub}"
    conn_group = "/groups/{group}/connections/{connectionId}"
    return [
        Route("/client/negotiate", negotiate, methods=["POST"]),
        WebSocketRoute("/client/", client_socket),
        WebSocketRoute("/client", client_socket),
        Route(hubs + "/:send", _rest(_send_all), methods=["POST"]),
        Route(hubs + "/:generateToken", _rest(_generate_token), methods=["POST"]),
        Route(hubs + "/users/{user}/:send", _rest(_send_user), methods=["POST"]),
        Route(hubs + "/groups/{group}/:send", _rest(_send_group), methods=["POST"]),
        Route(
            hubs + "/connections/{connectionId}/:send", _rest(_send_connection), methods=["POST"]
        ),
        Route(hubs + "/connections/{connectionId}", _rest(_close_connection), methods=["DELETE"]),
        Route(hubs + conn_group, _rest(_connection_group), methods=["PUT", "DELETE"]),
        Route(hubs + "/users/{user}/groups/{group}", _rest(_user_group), methods=["PUT", "DELETE"]),
        Route(v1, _rest(_send_all), methods=["POST"]),
        Route(v1 + "/users/{user}", _rest(_send_user), methods=["POST"]),
        Route(v1 + "/groups/{group}", _rest(_send_group), methods=["POST"]),
        Route(v1 + conn_group, _rest(_connection_group), methods=["PUT", "DELETE"]),
        Route(v1 + "/groups/{group}/users/{user}", _rest(_user_group), methods=["PUT", "DELETE"]),
    ]


def create_hub_app(hub: LocalHub) -> Starlette:
    """The local SignalR endpoint as an ASGI app serving `hub` (mount it, or serve it alone)."""
    app = Starlette(routes=_routes())
    app.state.hub = hub
    return app


def mount_hub(app: Starlette, hub: LocalHub, prefix: str = "/signalr") -> str:
    """Mount the local endpoint on `app` under `prefix`; returns the prefix (the endpoint path).

    The endpoint URL the notifier needs is then `http://{host}:{port}{prefix}`.
    """
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise ValueError("prefix must start with '/' and not end with '/'")
    app.mount(prefix, create_hub_app(hub))
    return prefix
