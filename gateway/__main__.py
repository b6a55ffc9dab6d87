"""`python -m gateway`: the venue gateway container app.

Reads the settings, opens the store and the bus (requests from the instruments' workers
come on VENUES_QUEUE, the venues' reports go back on ORDERS_QUEUE), serves the health endpoint on
GATEWAY_HEALTH_PORT and runs the gateway until SIGTERM or SIGINT; then every venue's
connection logs out and its session (the lease) is released for another replica.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from functools import partial

from gateway.service import GatewayService, bus_sinks, gateway_config
from shared.adapters.factory import bus_from_settings, notifier_from_settings, store_from_settings
from shared.config.settings import Settings, load_settings
from shared.feeds.publisher import FeedPublisher
from shared.runtime.health import HealthServer
from shared.services.venue_connections import NoticeDeps, connection_changed

log = logging.getLogger("gateway")


async def main(settings: Settings) -> None:
    settings.OMS_DATA_DIR.mkdir(parents=True, exist_ok=True)
    store = await store_from_settings(settings)
    bus = bus_from_settings(settings)
    # A venue going down or coming up: an audit entry, pushed to admins (SignalR).
    # Without SIGNALR_ENDPOINT (a gateway beside the local run) the entry is only stored.
    notifier = notifier_from_settings(settings)
    feeds = FeedPublisher(notifier, streams=store.feeds)
    notices = NoticeDeps(store, feeds, time.time_ns)
    # Each venue's reports: commands on their instruments' sessions (ORDERS_QUEUE).
    service = GatewayService(
        store,
        bus,
        gateway_config(settings),
        sinks=bus_sinks(store, bus, settings.ORDERS_QUEUE),
        watch=partial(connection_changed, notices),
    )
    health = HealthServer(lambda: service.healthy, port=settings.GATEWAY_HEALTH_PORT)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, service.request_stop)
    await health.start()
    try:
        await service.start()
        await service.run_until_stopped()
    finally:
        await service.stop()
        await health.close()
        await bus.close()
        await notices.background.drain()  # the last notices' pushes
        aclose = getattr(notifier, "aclose", None)
        if aclose is not None:
            await aclose()
        await store.close()


def run() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(main(load_settings()))
    except Exception:
        log.critical("the gateway stopped on a fatal error", exc_info=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run())
