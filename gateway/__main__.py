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

from gateway.service import GatewayService, bus_sinks, gateway_config
from shared.adapters.factory import bus_from_settings, store_from_settings
from shared.config.settings import Settings, load_settings
from shared.runtime.health import HealthServer

log = logging.getLogger("gateway")


async def main(settings: Settings) -> None:
    settings.OMS_DATA_DIR.mkdir(parents=True, exist_ok=True)
    store = await store_from_settings(settings)
    bus = bus_from_settings(settings)
    # Each venue's reports: commands on their instruments' sessions (ORDERS_QUEUE).
    service = GatewayService(
        store, bus, gateway_config(settings), sinks=bus_sinks(store, bus, settings.ORDERS_QUEUE)
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
