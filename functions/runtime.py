"""The one container of a worker process, built on first use (never at import time)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from shared.bootstrap import Container

ContainerFactory = Callable[[], Awaitable[Container]]


class ContainerProvider:
    """Builds the container once, on the first request or trigger that needs it."""

    def __init__(self, factory: ContainerFactory) -> None:
        self._factory = factory
        self._container: Container | None = None
        self._lock: asyncio.Lock | None = None

    async def get(self) -> Container:
        if self._container is None:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._container is None:
                    self._container = await self._factory()
        return self._container

    async def aclose(self) -> None:
        if self._container is not None:
            container, self._container = self._container, None
            await container.aclose()


def default_provider() -> ContainerProvider:
    """The provider of the deployed app: settings from the environment, adapters from them."""

    async def build() -> Container:
        from shared.bootstrap import bootstrap
        from shared.config.settings import load_settings
        from shared.observability.setup import setup_telemetry

        settings = load_settings()
        # The Functions worker ships the process's logs (and, with Application Insights, has
        # configured OpenTelemetry already): no log handler of our own.
        setup_telemetry(settings, "oms-api", log_stream=None)
        return await bootstrap(settings)

    return ContainerProvider(build)
