"""`python -m matcher`: the matcher container app.

Reads the settings, builds the store, bus, snapshot store, notifier and cache from them, serves the
health endpoint on MATCHER_HEALTH_PORT and runs the service until SIGTERM or SIGINT, then
shuts down gracefully (finish the batch in hand, snapshot, release the sessions).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from matcher.service.service import MatcherService
from shared.adapters.factory import (
    bus_from_settings,
    notifier_from_settings,
    redis_from_settings,
    snapshots_from_settings,
    store_from_settings,
)
from shared.config.settings import Settings, load_settings
from shared.observability.setup import setup_telemetry
from shared.ports.notifier import Notifier
from shared.runtime.gc_pauses import freeze_startup_objects
from shared.runtime.health import HealthServer

log = logging.getLogger("matcher")


def _notifier(settings: Settings) -> Notifier | None:
    # Without SIGNALR_ENDPOINT there is no hub in this process (the local run owns it):
    # the live feeds are off, and everything else works.
    if not settings.SIGNALR_ENDPOINT:
        log.warning("SIGNALR_ENDPOINT is not set: live book and trade feeds are off")
        return None
    return notifier_from_settings(settings)


async def main(settings: Settings) -> None:
    settings.OMS_DATA_DIR.mkdir(parents=True, exist_ok=True)  # SQLite / snapshots when local
    store = await store_from_settings(settings)
    bus = bus_from_settings(settings)
    snapshots = snapshots_from_settings(settings)
    notifier = _notifier(settings)
    # The latest L2 book per instrument goes to Redis for GET /api/book/{symbol}; an
    # in-process cache would help no one outside this process.
    cache = redis_from_settings(settings)
    service = MatcherService(store, bus, snapshots, notifier, settings, cache=cache)
    health = HealthServer(lambda: service.healthy, port=settings.MATCHER_HEALTH_PORT)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, service.request_stop)
    await health.start()
    try:
        await service.start()
        freeze_startup_objects()
        await service.run_until_stopped()
    finally:
        await service.stop()
        await health.close()
        await bus.close()
        await snapshots.close()
        if cache is not None:
            await cache.close()
        aclose = getattr(notifier, "aclose", None)
        if aclose is not None:
            await aclose()
        await store.close()


def run() -> int:
    settings = load_settings()
    telemetry = setup_telemetry(settings, "oms-matcher")
    try:
        asyncio.run(main(settings))
    except Exception:
        log.critical("the matcher stopped on a fatal error", exc_info=True)
        return 1
    finally:
        telemetry.shutdown()  # the last spans and metrics go out
    return 0


if __name__ == "__main__":
    sys.exit(run())
