"""A stand-in for Alpaca's paper Trading API, for the Alpaca connector's local tests: the
subset the connector uses, over real HTTP and a real WebSocket on a free loopback port.

Modelled on Alpaca's documented v2 responses: order objects (decimal strings, RFC 3339
times with nanoseconds), errors as `{"code", "message"}` with Alpaca's codes (422
`client_order_id must be unique`, 403 `insufficient buying power`, 404 `order not found`,
422 `order is not cancelable`, 429 `rate limit exceeded`), `orders:by_client_order_id`,
`PATCH` replace (a new order; the old one `replaced`), FILL activities, and the
`/stream` WebSocket (authenticate, listen, `trade_updates` events). Like Alpaca, the
stream does not replay events sent while a client was away.

The control routes (`/control/...`, no auth) let a test fill orders, arm rejects,
throttling and stalls, and drop the stream.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

Json = dict[str, Any]
OPEN = {"new", "accepted", "pending_new", "partially_filled", "pending_cancel", "pending_replace"}


def now_text() -> str:
    ns = time.time_ns()
    moment = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ns % 1_000_000_000:09d}Z"


def text(value: Decimal) -> str:
    out = format(value, "f")
    return out.rstrip("0").rstrip(".") if "." in out else out


def error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)


@dataclass
class Armed:
    throttle: int = 0
    stall: int = 0
    stall_seconds: float = 0.0
    reject: str = ""
    refuse_stream_until: float = 0.0


@dataclass
class StandIn:
    key_id: str
    secret_key: str
    orders: dict[str, Json] = field(default_factory=dict)  # by Alpaca order id
    activities: list[Json] = field(default_factory=list)
    armed: Armed = field(default_factory=Armed)
    sockets: set[web.WebSocketResponse] = field(default_factory=set)
    posts: int = 0  # POST /v2/orders received
    port: int = 0
    _runner: web.AppRunner | None = None
    _outbox: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    _pumping: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- server

    async def start(self) -> StandIn:
        app = web.Application(middlewares=[self._auth])
        app.router.add_post("/v2/orders", self.submit)
        app.router.add_get("/v2/orders", self.list_orders)
        app.router.add_get("/v2/orders:by_client_order_id", self.by_client_id)
        app.router.add_get("/v2/orders/{id}", self.get_order)
        app.router.add_delete("/v2/orders/{id}", self.cancel)
        app.router.add_patch("/v2/orders/{id}", self.replace)
        app.router.add_get("/v2/account/activities/FILL", self.fills)
        app.router.add_get("/stream", self.stream)
        app.router.add_post("/control/fill", self.control_fill)
        app.router.add_post("/control/arm", self.control_arm)
        app.router.add_post("/control/drop_stream", self.control_drop)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        self.port = server.sockets[0].getsockname()[1]
        self._pumping = asyncio.create_task(self._pump())
        return self

    async def stop(self) -> None:
        if self._pumping is not None:
            self._pumping.cancel()
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith(("/v2/",)):
            key = request.headers.get("APCA-API-KEY-ID")
            secret = request.headers.get("APCA-API-SECRET-KEY")
            if (key, secret) != (self.key_id, self.secret_key):
                return error(401, 40110000, "request is not authorized")
        response: web.StreamResponse = await handler(request)
        return response

    # ---------------------------------------------------------------- orders

    def by_client(self, client_order_id: str) -> Json | None:
        return next(
            (o for o in self.orders.values() if o["client_order_id"] == client_order_id), None
        )

    def _order(self, body: Json, client_order_id: str) -> Json:
        stamp = now_text()
        return {
            "id": str(uuid.uuid4()),
            "client_order_id": client_order_id,
            "created_at": stamp,
            "updated_at": stamp,
            "submitted_at": stamp,
            "filled_at": None,
            "expired_at": None,
            "canceled_at": None,
            "failed_at": None,
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415",
            "symbol": body["symbol"],
            "asset_class": "us_equity",
            "notional": None,
            "qty": body["qty"],
            "filled_qty": "0",
            "filled_avg_price": None,
            "order_class": "simple",
            "order_type": body["type"],
            "type": body["type"],
            "side": body["side"],
            "time_in_force": body["time_in_force"],
            "limit_price": body.get("limit_price"),
            "stop_price": body.get("stop_price"),
            "status": "accepted",
            "extended_hours": False,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
        }

    async def submit(self, request: web.Request) -> web.Response:
        self.posts += 1
        body = await request.json()
        if self.armed.throttle > 0:
            self.armed.throttle -= 1
            return error(429, 42910000, "rate limit exceeded")
        for name in ("symbol", "qty", "side", "type", "time_in_force"):
            if not isinstance(body.get(name), str):
                return error(422, 40010000, f"{name} is required")
        if body["type"] in ("limit", "stop_limit") and not body.get("limit_price"):
            return error(422, 40010000, "limit_price is required for limit orders")
        client_order_id = body.get("client_order_id") or str(uuid.uuid4())
        if self.by_client(client_order_id) is not None:
            return error(422, 40010001, "client_order_id must be unique")
        if self.armed.reject:
            message, self.armed.reject = self.armed.reject, ""
            return error(403, 40310000, message)
        order = self._order(body, client_order_id)
        self.orders[order["id"]] = order
        if self.armed.stall > 0:  # processed, but the answer comes too late
            self.armed.stall -= 1
            await asyncio.sleep(self.armed.stall_seconds)
        asyncio.get_running_loop().call_soon(self._accept, order["id"])
        return web.json_response(order)

    def _accept(self, order_id: str) -> None:
        order = self.orders[order_id]
        if order["status"] == "accepted":
            order["status"] = "new"
            order["updated_at"] = now_text()
            self.emit("new", order)

    async def list_orders(self, request: web.Request) -> web.Response:
        status = request.query.get("status", "open")
        orders = [
            o
            for o in self.orders.values()
            if status == "all" or (o["status"] in OPEN) == (status == "open")
        ]
        return web.json_response(orders)

    async def by_client_id(self, request: web.Request) -> web.Response:
        client_order_id = request.query.get("client_order_id", "")
        order = self.by_client(client_order_id)
        if order is None:
            return error(404, 40410000, f"order not found for {client_order_id}")
        return web.json_response(order)

    async def get_order(self, request: web.Request) -> web.Response:
        order = self.orders.get(request.match_info["id"])
        if order is None:
            return error(404, 40410000, "order not found")
        return web.json_response(order)

    async def cancel(self, request: web.Request) -> web.Response:
        order = self.orders.get(request.match_info["id"])
        if order is None:
            return error(404, 40410000, "order not found")
        if order["status"] not in OPEN:
            return error(422, 42210000, "order is not cancelable")
        order.update(status="canceled", canceled_at=now_text(), updated_at=now_text())
        asyncio.get_running_loop().call_soon(self.emit, "canceled", dict(order))
        return web.Response(status=204)

    async def replace(self, request: web.Request) -> web.Response:
        old = self.orders.get(request.match_info["id"])
        if old is None:
            return error(404, 40410000, "order not found")
        if old["status"] not in OPEN:
            return error(422, 42210000, "order is not replaceable")
        body = await request.json()
        qty = Decimal(body.get("qty") or old["qty"])
        if qty <= Decimal(old["filled_qty"]):
            return error(422, 40010000, "qty must be greater than the filled quantity")
        new = self._order(
            {
                **{k: old[k] for k in ("symbol", "side", "type", "time_in_force")},
                "qty": text(qty),
                "limit_price": body.get("limit_price", old["limit_price"]),
                "stop_price": body.get("stop_price", old["stop_price"]),
            },
            body.get("client_order_id") or str(uuid.uuid4()),
        )
        new.update(status="new", replaces=old["id"], filled_qty=old["filled_qty"])
        new["filled_avg_price"] = old["filled_avg_price"]
        old.update(status="replaced", replaced_by=new["id"], replaced_at=now_text())
        self.orders[new["id"]] = new
        loop = asyncio.get_running_loop()
        loop.call_soon(self.emit, "replaced", dict(old))
        loop.call_soon(self.emit, "new", dict(new))
        return web.json_response(new)

    async def fills(self, request: web.Request) -> web.Response:
        after = request.query.get("after", "")
        size = int(request.query.get("page_size", "100"))
        token = request.query.get("page_token", "")
        chosen = [a for a in self.activities if a["transaction_time"] > after]
        if token:
            ids = [a["id"] for a in chosen]
            chosen = chosen[ids.index(token) + 1 :] if token in ids else []
        return web.json_response(chosen[:size])

    # ---------------------------------------------------------------- stream

    def emit(self, event: str, order: Json, **extra: str) -> None:
        data = {
            "event": event,
            "execution_id": str(uuid.uuid4()),
            "order": order,
            "timestamp": extra.pop("timestamp", now_text()),
            **extra,
        }
        self._outbox.put_nowait(json.dumps({"stream": "trade_updates", "data": data}))

    async def _pump(self) -> None:
        """Sends the events in the order they happened to whoever listens now."""
        while True:
            message = await self._outbox.get()
            for ws in list(self.sockets):
                if not ws.closed:
                    await ws.send_str(message)

    async def stream(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if time.monotonic() < self.armed.refuse_stream_until:
            await ws.close()
            return ws
        listening = False
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                continue
            body = json.loads(message.data)
            action, data = body.get("action"), body.get("data") or {}
            if action == "authenticate":
                ok = (data.get("key_id"), data.get("secret_key")) == (self.key_id, self.secret_key)
                status = "authorized" if ok else "unauthorized"
                reply = {"stream": "authorization", "data": {"status": status, "action": action}}
                await ws.send_str(json.dumps(reply))
                if not ok:
                    await ws.close()
            elif action == "listen" and not listening:
                listening = True
                streams = data.get("streams", [])
                await ws.send_str(json.dumps({"stream": "listening", "data": {"streams": streams}}))
                self.sockets.add(ws)
        self.sockets.discard(ws)
        return ws

    # ---------------------------------------------------------------- control

    def fill(self, client_order_id: str, qty: Decimal, price: Decimal) -> Json:
        order = self.by_client(client_order_id)
        if order is None or order["status"] not in OPEN:
            raise web.HTTPBadRequest(text=f"{client_order_id} is not open")
        filled = Decimal(order["filled_qty"])
        qty = min(qty, Decimal(order["qty"]) - filled)
        before = Decimal(order["filled_avg_price"] or 0) * filled
        filled += qty
        done = filled >= Decimal(order["qty"])
        stamp = now_text()
        order.update(
            filled_qty=text(filled),
            filled_avg_price=text((before + qty * price) / filled),
            status="filled" if done else "partially_filled",
            updated_at=stamp,
            filled_at=stamp if done else None,
        )
        self.activities.append(
            {
                "id": f"{stamp[:19].replace('-', '').replace(':', '')}::{uuid.uuid4()}",
                "activity_type": "FILL",
                "transaction_time": stamp,
                "type": "fill" if done else "partial_fill",
                "price": text(price),
                "qty": text(qty),
                "side": order["side"],
                "symbol": order["symbol"],
                "leaves_qty": text(Decimal(order["qty"]) - filled),
                "order_id": order["id"],
                "cum_qty": text(filled),
                "order_status": order["status"],
            }
        )
        self.emit(
            "fill" if done else "partial_fill",
            dict(order),
            timestamp=stamp,
            price=text(price),
            qty=text(qty),
            position_qty=text(filled),
        )
        return order

    async def control_fill(self, request: web.Request) -> web.Response:
        body = await request.json()
        order = self.fill(
            str(body["client_order_id"]), Decimal(body["qty"]), Decimal(body["price"])
        )
        return web.json_response(order)

    async def control_arm(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.armed.throttle += int(body.get("throttle", 0))
        self.armed.stall += int(body.get("stall", 0))
        self.armed.stall_seconds = float(body.get("stall_seconds", self.armed.stall_seconds))
        self.armed.reject = str(body.get("reject", self.armed.reject))
        return web.json_response({"armed": True})

    async def control_drop(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.armed.refuse_stream_until = time.monotonic() + float(body.get("refuse_seconds", 0))
        for ws in list(self.sockets):
            await ws.close()
        self.sockets.clear()
        return web.json_response({"dropped": True})
