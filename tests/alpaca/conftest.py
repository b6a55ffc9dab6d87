"""The official alpaca-py, unchanged, against the whole local run over real HTTP and
WebSocket: one `LocalRun` for the suite (its own data folder and loopback port), accounts
made through the admin API, and the SDK's sync clients called from worker threads (the OMS
runs on the test's event loop)."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.models import TradeUpdate
from alpaca.trading.stream import TradingStream

from localrun.host import LocalRun
from shared.config.settings import Settings
from tests.support.redis_server import free_port

_names = itertools.count(1)


@dataclass
class Bot:
    """An account and what a bot holds: its keys and an SDK client pointed at the OMS."""

    account_id: str
    key: str
    url: str
    client: TradingClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = TradingClient(self.account_id, self.key, paper=True, url_override=self.url)

    @property
    def headers(self) -> dict[str, str]:
        return {"APCA-API-KEY-ID": self.account_id, "APCA-API-SECRET-KEY": self.key}


@dataclass
class AlpacaOms:
    run: LocalRun
    admin_key: str
    http: httpx.AsyncClient

    @property
    def url(self) -> str:
        return self.run.url

    @property
    def stream_url(self) -> str:
        return self.run.url.replace("http://", "ws://") + "/stream"

    @property
    def admin(self) -> dict[str, str]:
        return {"X-API-Key": self.admin_key}

    async def bot(self, kind: str = "paper", starting_cash: str | None = None) -> Bot:
        """A new account (paper: the fill simulator; live: the internal matching venue)."""
        body: dict[str, object] = {"name": f"bot-{next(_names)}", "type": kind}
        if starting_cash is not None:
            body["starting_cash"] = starting_cash
        response = await self.http.post("/api/admin/accounts", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        made = response.json()
        return Bot(made["account"]["account_id"], made["api_key"], self.url)


async def call(function: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking SDK call off the event loop the OMS serves on (its answer is the SDK's
    model; typed Any as the SDK types it `Model | RawData`)."""
    return await asyncio.to_thread(function, *args)


async def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll `check` (sync or async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("the condition did not come true in time")
        await asyncio.sleep(0.05)


class StreamListener:
    """alpaca-py's TradingStream in its own thread (its `run()` owns an event loop)."""

    def __init__(self, oms: AlpacaOms, bot: Bot) -> None:
        self.bot = bot
        self.updates: list[TradeUpdate] = []
        self.stream = TradingStream(bot.account_id, bot.key, url_override=oms.stream_url)
        self.stream.subscribe_trade_updates(self._on_update)
        self.thread = threading.Thread(target=self.stream.run, daemon=True)

    async def _on_update(self, update: TradeUpdate) -> None:
        self.updates.append(update)

    async def start(self, oms: AlpacaOms, bot: Bot) -> None:
        """Start, and wait until the OMS's fan-out has the stream's connection."""
        self.thread.start()
        hub = oms.run.hub
        assert hub is not None
        await eventually(lambda: hub.user_connected("oms", bot.account_id), timeout=15)

    async def stop(self) -> None:
        await call(self.stream.stop)
        await call(self.thread.join, 10)

    def events(self, order_id: object) -> list[str]:
        return [u.event for u in self.updates if str(u.order.id) == str(order_id)]


@pytest.fixture(scope="session")
async def oms(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AlpacaOms]:
    settings = Settings(
        OMS_DATA_DIR=tmp_path_factory.mktemp("alpaca-oms"),
        OMS_HOST="127.0.0.1",
        OMS_PORT=free_port(),
    )
    run = LocalRun(settings)
    keys = await run.start()
    http = httpx.AsyncClient(base_url=run.url, timeout=10)
    try:
        yield AlpacaOms(run, keys.admin, http)
    finally:
        await http.aclose()
        await run.stop()


@pytest.fixture
async def listeners() -> AsyncIterator[list[StreamListener]]:
    made: list[StreamListener] = []
    yield made
    for listener in made:
        await listener.stop()
