"""The OMS Function App wired for tests: SQLite in memory, the in-memory bus and cache, a
recording notifier, a controllable clock, the matcher pump, and two ways to reach the app:
real HTTP (uvicorn on a loopback port) and in-process through `func.AsgiMiddleware`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

import azure.functions as func
import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI

from functions.http import create_app
from functions.runtime import ContainerProvider
from functions.triggers import on_execution_message
from shared.adapters.bus_memory import InMemoryBus
from shared.adapters.cache_memory import MemoryCache
from shared.adapters.factory import memory_queues
from shared.adapters.sqlite.store import open_sqlite_store
from shared.bootstrap import Container, bootstrap
from shared.config.settings import Settings
from shared.domain.enums import AccountType
from shared.ports.bus import Bus, BusMessage
from shared.ports.cache import Cache
from shared.ports.notifier import ClientAccess
from shared.ports.store import Store
from shared.ports.store_accounts import RiskLimits
from shared.services import admin, instrument_admin
from tests.support.matcher_pump import MatcherPump
from tests.support.redis_server import free_port

ADMIN_KEY = "test-admin-key"


@contextmanager
def bus_down(bus: Bus) -> Iterator[None]:
    """Inside, every send to the bus fails (the network to it is down)."""

    async def refuse(queue: str, messages: Sequence[BusMessage]) -> None:
        raise ConnectionError("bus down")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bus, "send", refuse)
        yield


@contextmanager
def cache_write_fails_once(cache: Cache) -> Iterator[None]:
    """Inside, the first versioned write to the cache fails (the cache went away)."""
    write = cache.set_versioned
    failed = False

    async def once(*args: Any, **kwargs: Any) -> bool:
        nonlocal failed
        if not failed:
            failed = True
            raise ConnectionError("cache down")
        return await write(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cache, "set_versioned", once)
        yield


class FakeClock:
    """Nanoseconds; each reading moves one microsecond on, `advance` jumps."""

    def __init__(self, start: int | None = None) -> None:
        self.now = start if start is not None else time.time_ns()

    def __call__(self) -> int:
        self.now += 1_000
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)


@dataclass
class RecordingNotifier:
    sent: list[tuple[str, str, list[object]]] = field(default_factory=list)
    offline: set[str] = field(default_factory=set)  # users with no live connection

    async def send_to_user(self, user_id: str, target: str, args: Sequence[object]) -> None:
        self.sent.append((user_id, target, list(args)))

    async def send_to_group(self, group: str, target: str, args: Sequence[object]) -> None:
        self.sent.append((group, target, list(args)))

    async def send_to_all(self, target: str, args: Sequence[object]) -> None:
        self.sent.append(("*", target, list(args)))

    async def add_user_to_group(self, user_id: str, group: str) -> None: ...
    async def remove_user_from_group(self, user_id: str, group: str) -> None: ...
    async def add_connection_to_group(self, connection_id: str, group: str) -> None: ...
    async def remove_connection_from_group(self, connection_id: str, group: str) -> None: ...

    async def client_access(self, user_id: str) -> ClientAccess:
        return ClientAccess("http://hub", "token")

    def reaches_user(self, user_id: str) -> bool:
        return user_id not in self.offline

    def envelopes(self, user_id: str, target: str | None = None) -> list[dict[str, Any]]:
        return [
            args[0]  # type: ignore[misc]
            for user, t, args in self.sent
            if user == user_id and (target is None or t == target)
        ]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


class Transport(Protocol):
    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply: ...


class FunctionsTransport:
    """Requests through the Functions ASGI adapter, as the Functions host would send them."""

    def __init__(self, app: FastAPI) -> None:
        self.middleware = func.AsgiMiddleware(app)

    async def request(self, method, path, *, json=None, params=None, headers=None) -> Reply:
        query = f"?{urlencode(params, doseq=True)}" if params else ""
        body = b"" if json is None else orjson.dumps(json)
        all_headers = {"content-type": "application/json", **(headers or {})}
        request = func.HttpRequest(
            method, f"http://localhost{path}{query}", headers=all_headers, body=body
        )
        response = await self.middleware.handle_async(request)
        return Reply(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.get_body(),
        )


class HttpTransport:
    """Requests over real HTTP to uvicorn."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(self, method, path, *, json=None, params=None, headers=None) -> Reply:
        response = await self.client.request(
            method, path, json=json, params=params, headers=headers
        )
        return Reply(response.status_code, dict(response.headers), response.content)


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """uvicorn serving `app` on 127.0.0.1 (a free port) in this event loop."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class Client:
    """One account's view of the API over a transport."""

    def __init__(self, transport: Transport, api_key: str) -> None:
        self.transport = transport
        self.api_key = api_key

    async def call(self, method: str, path: str, **kwargs: Any) -> Reply:
        headers = {"X-API-Key": self.api_key, **kwargs.pop("headers", {})}
        return await self.transport.request(method, path, headers=headers, **kwargs)

    async def place(self, **order: Any) -> Reply:
        headers = order.pop("headers", {})
        return await self.call("POST", "/api/orders", json=order, headers=headers)


@dataclass
class Oms:
    container: Container
    app: FastAPI
    pump: MatcherPump
    notifier: RecordingNotifier
    clock: FakeClock
    admin_key: str = ADMIN_KEY

    async def settle(self) -> None:
        """Let the matcher and the executions trigger catch up."""
        await self.pump.run(lambda message: on_execution_message(self.container, message))

    async def add_account(
        self, name: str, type: AccountType = AccountType.LIVE, **limits: Any
    ) -> tuple[str, str]:
        spec = admin.NewAccount(name, type, risk_limits=RiskLimits(**limits))
        account, key = await admin.create_account(self.container, spec, "test")
        return account.account_id, key

    async def add_instrument(
        self, symbol: str, tick: str = "0.01", lot: str = "1", **kw: Any
    ) -> None:
        spec = instrument_admin.InstrumentSpec(symbol, _decimal(tick), _decimal(lot), **kw)
        instrument = await instrument_admin.create_instrument(self.container, spec, "test")
        self.pump.instruments[symbol] = (
            instrument.maker_fee_cbps,
            instrument.taker_fee_cbps,
            instrument.reference_price or 0,
        )


def _decimal(value: str) -> Any:
    from decimal import Decimal

    return Decimal(value)


async def make_oms(cache: Cache | None = None, store: Store | None = None) -> Oms:
    """`store`: SQLite in memory by default. An in-memory database reads on its writer
    connection, so a read sees writes not yet committed; a file database (as in the local
    run) reads committed data only, which lets concurrent requests interleave as they do
    in production."""
    settings = Settings(OMS_ADMIN_API_KEY=ADMIN_KEY)
    bus = InMemoryBus(memory_queues(settings))
    notifier = RecordingNotifier()
    clock = FakeClock()
    store = store or await open_sqlite_store(":memory:")
    container = await bootstrap(
        settings,
        store=store,
        bus=bus,
        cache=cache or MemoryCache(),
        notifier=notifier,
        clock=clock,
        trust_client_principal=True,
    )

    async def factory() -> Container:
        return container

    app = create_app(ContainerProvider(factory))
    return Oms(
        container,
        app,
        MatcherPump(bus, clock=clock, journal=store.journal, instruments=store.instruments),
        notifier,
        clock,
    )
