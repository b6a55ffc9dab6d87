"""The local host: the Function App without the Functions host, plus the matcher.

uvicorn serves the same FastAPI app on http://{OMS_HOST}:{OMS_PORT}/api/..., a dispatcher
feeds the same trigger functions from the bus, the matcher service takes the instrument
sessions, the venue gateway holds the external venues' connections, a local SignalR hub is
mounted at /signalr (unless SIGNALR_ENDPOINT points at a real SignalR Service), and Alpaca's
trade_updates stream is served at /stream.
Everything shares one bus, one store and one cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from functools import partial

import uvicorn

from alpaca_stream.app import PATH as STREAM_PATH
from alpaca_stream.app import stream_endpoint
from functions.app import function_app
from functions.http import create_app
from functions.http.metrics import mount_metrics
from functions.runtime import ContainerProvider
from gateway.service import GatewayService, bus_sinks, gateway_config
from localrun.dispatcher import TriggerDispatcher
from localrun.recovery import reconcile_volatile_bus
from localrun.seed import LocalKeys, seed
from matcher.service.service import MatcherService
from shared.adapters.factory import (
    account_feed_from_settings,
    bus_from_settings,
    notifier_from_settings,
    snapshots_from_settings,
)
from shared.bootstrap import Container, bootstrap
from shared.config.settings import Settings
from shared.observability.setup import Telemetry
from shared.services.venue_connections import connection_changed
from shared.signalr_hub.hub import LocalHub
from shared.signalr_hub.server import mount_hub

log = logging.getLogger(__name__)


@dataclass
class LocalRun:
    """Start with `await run.start()`, stop with `await run.stop()`."""

    settings: Settings
    telemetry: Telemetry | None = None  # with a Prometheus registry: served at /api/metrics
    container: Container | None = None
    keys: LocalKeys | None = None
    hub: LocalHub | None = None
    matcher: MatcherService | None = None
    gateway: GatewayService | None = None
    dispatcher: TriggerDispatcher | None = None
    server: uvicorn.Server | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.settings.OMS_HOST}:{self.settings.OMS_PORT}"

    async def start(self) -> LocalKeys:
        s = self.settings
        s.OMS_DATA_DIR.mkdir(parents=True, exist_ok=True)
        if not s.SIGNALR_ENDPOINT:
            self.hub = LocalHub(s.SIGNALR_ACCESS_KEY or secrets.token_urlsafe(32))
        notifier = notifier_from_settings(s, self.hub, f"{self.url}/signalr")
        bus = bus_from_settings(s)
        container = await bootstrap(s, bus=bus, notifier=notifier)
        container.closers.insert(0, bus.close)
        self.container = container

        async def same_container() -> Container:
            return container

        provider = ContainerProvider(same_container)
        app = create_app(provider)
        if self.hub is not None:
            mount_hub(app, self.hub, "/signalr")
        if self.telemetry is not None and self.telemetry.prometheus is not None:
            mount_metrics(app, self.telemetry.prometheus)
        feed = account_feed_from_settings(s, notifier, self.hub)
        if feed is not None:  # Alpaca's trade_updates stream, on the API's port
            app.router.add_websocket_route(STREAM_PATH, stream_endpoint(same_container, feed))
        functions_app = function_app(app, provider)

        self.keys = await seed(container)
        if not (s.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE or s.SERVICEBUS_CONNECTION_STRING):
            await reconcile_volatile_bus(container)  # a kill -9 emptied the in-memory bus

        self.matcher = MatcherService(
            container.store,
            bus,
            snapshots_from_settings(s),
            notifier,
            s,
            cache=container.cache,
        )
        await self.matcher.start()
        # The venue gateway: connects every defined venue (its sessions on VENUES_QUEUE).
        # What the venues report goes to the instruments' sessions (the matcher applies it).
        self.gateway = GatewayService(
            container.store,
            bus,
            gateway_config(s),
            sinks=bus_sinks(container.store, bus, s.ORDERS_QUEUE),
            watch=partial(connection_changed, container),
        )
        await self.gateway.start()
        self.dispatcher = TriggerDispatcher(functions_app, bus, s)
        await self.dispatcher.start()

        # No proxy in front of the local run: its forwarded-headers layer would only cost.
        config = uvicorn.Config(
            app,
            host=s.OMS_HOST,
            port=s.OMS_PORT,
            log_level="warning",
            log_config=None,  # uvicorn's lines go through the process's (JSON) handler
            access_log=False,
            proxy_headers=False,
        )
        self.server = uvicorn.Server(config)
        self._tasks.append(asyncio.create_task(self.server.serve()))
        while not self.server.started:
            if self._tasks[0].done():
                self._tasks[0].result()  # raises why the server could not start
                raise RuntimeError("the HTTP server stopped during start-up")
            await asyncio.sleep(0.02)
        return self.keys

    def add_task(self, task: asyncio.Task[None]) -> None:
        self._tasks.append(task)

    async def stop(self) -> None:
        """Stop taking requests, finish the matcher's batch, then close everything."""
        if self.server is not None:
            self.server.should_exit = True
        for task in self._tasks[1:]:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.dispatcher is not None:
            await self.dispatcher.stop()
        if self.gateway is not None:
            await self.gateway.stop()
        if self.matcher is not None:
            await self.matcher.stop()
        if self.hub is not None:
            self.hub.close_all()
        if self.container is not None:
            await self.container.aclose()
