"""`python -m alpaca_stream`: the `trade_updates` stream's container app in Azure.

Settings from the environment (the names the Bicep sets): the store to check keys
(MONGODB_URI), and SignalR Service (SIGNALR_ENDPOINT, with the app's managed identity), whose
per-account feed it relays. Serves `/stream` and `/healthz` on OMS_HOST:OMS_PORT.
"""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from alpaca_stream.app import create_stream_app
from shared.adapters.factory import account_feed_from_settings
from shared.bootstrap import Container, bootstrap
from shared.config.settings import load_settings


async def serve() -> None:
    settings = load_settings()
    container = await bootstrap(settings)
    try:
        feed = account_feed_from_settings(settings, container.notifier)
        if feed is None:
            raise SystemExit("the stream needs SIGNALR_ENDPOINT: it relays SignalR's feeds")

        async def get_container() -> Container:
            return container

        config = uvicorn.Config(
            create_stream_app(get_container, feed),
            host=settings.OMS_HOST,
            port=settings.OMS_PORT,
            log_level="warning",
            access_log=False,
            proxy_headers=True,  # behind the Container Apps ingress
            forwarded_allow_ips="*",
        )
        await uvicorn.Server(config).serve()
    finally:
        await container.aclose()


def main() -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    asyncio.run(serve())


if __name__ == "__main__":
    main()
