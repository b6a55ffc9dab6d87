"""Alpaca's `trade_updates` stream protocol over one WebSocket at `/stream`.

    -> {"action": "authenticate", "data": {"key_id": <account id>, "secret_key": <API key>}}
    <- {"stream": "authorization", "data": {"status": "authorized", "action": "authenticate"}}
       (or "unauthorized", and the connection closes)
    -> {"action": "listen", "data": {"streams": ["trade_updates"]}}
    <- {"stream": "listening", "data": {"streams": ["trade_updates"]}}
    <- {"stream": "trade_updates", "data": {"event": "new", "order": {...}, ...}}, ...

Frames are JSON; replies are binary frames, as Alpaca's trading stream sends them. The key is
checked by the same authentication service as every API call; the updates are the account's
live feed (`shared.ports.account_feed`) translated by `alpaca_stream.updates`. Listening to
no stream (`"streams": []`) stops the updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from alpaca_stream.updates import TradeUpdates
from shared.alpaca.symbols import Names
from shared.bootstrap import Container
from shared.ports.account_feed import AccountFeed
from shared.ports.store_errors import StoreUnavailable
from shared.services.auth import authenticate
from shared.services.errors import ServiceError

log = logging.getLogger(__name__)

TRADE_UPDATES = "trade_updates"
PATH = "/stream"
ContainerGetter = Callable[[], Awaitable[Container]]


def _frame(stream: str, data: dict[str, Any]) -> bytes:
    return json.dumps({"stream": stream, "data": data}, separators=(",", ":")).encode()


class TradeUpdatesSession:
    """One client connection: its authentication, its listening, its updates."""

    def __init__(self, websocket: WebSocket, container: Container, feed: AccountFeed) -> None:
        self.websocket = websocket
        self.container = container
        self.feed = feed
        self.account_id: str | None = None
        self.relay: asyncio.Task[None] | None = None
        self.send_lock = asyncio.Lock()

    async def send(self, stream: str, data: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.websocket.send_bytes(_frame(stream, data))

    async def run(self) -> None:
        await self.websocket.accept()
        try:
            while True:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                raw = message.get("text") or message.get("bytes") or b""
                if not await self.handle(raw):
                    await self.websocket.close(1008)
                    return
        except WebSocketDisconnect:
            return
        finally:
            await self.stop_relay()

    async def handle(self, raw: str | bytes) -> bool:
        """Act on one client message; False to close the connection."""
        try:
            message = json.loads(raw)
            action = message.get("action")
            data = message.get("data") or {}
        except (ValueError, AttributeError):
            await self.send("error", {"error_message": "invalid syntax"})
            return True
        if action in ("authenticate", "auth"):
            key_id = data.get("key_id", message.get("key"))
            secret = data.get("secret_key", message.get("secret"))
            return await self.authenticate(key_id, secret, str(action))
        if action == "listen":
            if self.account_id is None:
                await self.send("authorization", {"status": "unauthorized", "action": "listen"})
                return False
            streams = data.get("streams")
            await self.listen(isinstance(streams, list) and TRADE_UPDATES in streams)
            return True
        await self.send("error", {"error_message": f"unknown action {action!r}"})
        return True

    async def authenticate(self, key_id: object, secret: object, action: str) -> bool:
        account_id = None
        if isinstance(key_id, str) and isinstance(secret, str) and key_id and secret:
            try:
                caller = await authenticate(
                    self.container, api_key=secret, client_principal=None, trust_principal=False
                )
            except (ServiceError, StoreUnavailable):
                caller = None
            if caller is not None and caller.account_id == key_id:
                account_id = caller.account_id
        if account_id is None:
            await self.send("authorization", {"status": "unauthorized", "action": action})
            return False
        if self.account_id not in (None, account_id):
            await self.stop_relay()
        self.account_id = account_id
        await self.send("authorization", {"status": "authorized", "action": action})
        return True

    async def listen(self, trade_updates: bool) -> None:
        if not trade_updates:
            await self.stop_relay()
        elif self.relay is None:
            assert self.account_id is not None
            ready = asyncio.Event()
            self.relay = asyncio.create_task(self.relay_updates(self.account_id, ready))
            await ready.wait()  # connected to the feed before the client hears it listens
        await self.send("listening", {"streams": [TRADE_UPDATES] if trade_updates else []})

    async def relay_updates(self, account_id: str, ready: asyncio.Event) -> None:
        names = Names(self.container)
        translator = TradeUpdates(names.of)
        try:
            async with self.feed.listen(account_id) as messages:
                ready.set()
                async for target, envelope in messages:
                    data = envelope.get("data") or {}
                    await names.load(str(data.get("symbol") or ""))
                    for update in translator.translate(target, data):
                        await self.send(TRADE_UPDATES, update)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("trade_updates relay for %s ended", account_id, exc_info=True)
        finally:
            ready.set()
        # The feed ended (the fan-out closed it): close the client's connection so it
        # reconnects and re-syncs over REST, as after any drop.
        with contextlib.suppress(Exception):
            await self.websocket.close(1011)

    async def stop_relay(self) -> None:
        relay, self.relay = self.relay, None
        if relay is not None:
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await relay


def stream_endpoint(
    get_container: ContainerGetter, feed: AccountFeed
) -> Callable[[WebSocket], Awaitable[None]]:
    """The WebSocket endpoint of the stream (mount it at `/stream`)."""

    async def endpoint(websocket: WebSocket) -> None:
        container = await get_container()
        await TradeUpdatesSession(websocket, container, feed).run()

    return endpoint


def create_stream_app(get_container: ContainerGetter, feed: AccountFeed) -> Starlette:
    """The container app: the stream at `/stream`, and `/healthz` for its probes."""

    async def healthz(request: object) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            WebSocketRoute(PATH, stream_endpoint(get_container, feed)),
            Route("/healthz", healthz),
        ]
    )
