"""`python -m localrun` (`make run`): the whole OMS on one machine, one process.

Embedded defaults: SQLite in OMS_DATA_DIR (default ./.oms-data), the in-memory session bus,
the in-process cache, snapshots in a folder, a local SignalR hub. Settings switch pieces to
REDIS_URL, SNAPSHOTS_CONNECTION_STRING (Azurite), MONGODB_URI or Service Bus.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from localrun.host import LocalRun
from localrun.seed import LocalKeys
from shared.config.settings import Settings, load_settings
from shared.observability.setup import Telemetry, setup_telemetry
from shared.runtime.gc_pauses import freeze_startup_objects

# No client order id: the order's id stands in, so the example can be pasted again.
ORDER_BODY = (
    '{"symbol":"AAPL","side":"buy","type":"limit","quantity":"10","limit_price":"190.00",'
    '"time_in_force":"gtc"}'
)


def banner(url: str, keys: LocalKeys, settings: Settings) -> str:
    key = f"X-API-Key: {keys.live_key}"
    stream = url.replace("http://", "ws://") + "/stream"
    return f"""
OMS is running on {url}  (API under {url}/api, docs at {url}/api/docs)
  web page:    {url}/  (sign in with one of the keys below)
  alpaca-py:   TradingClient(account, key, url_override="{url}"), stream {stream}
  data:        {settings.OMS_DATA_DIR.resolve()}
  admin key:   {keys.admin}
  paper demo:  account {keys.paper_account}  key {keys.paper_key}
  live demo:   account {keys.live_account}  key {keys.live_key}

Try:
  curl -s {url}/api/instruments -H '{key}'
  curl -s -X POST {url}/api/orders -H '{key}' -H 'Content-Type: application/json' \\
       -d '{ORDER_BODY}'
Ctrl-C stops it (graceful: the matcher finishes its batch).
"""


async def run(settings: Settings, demo_market: bool, telemetry: Telemetry) -> None:
    local = LocalRun(settings, telemetry=telemetry)
    keys = await local.start()
    freeze_startup_objects()
    if demo_market:
        from localrun.demo_market import start_demo_market

        local.add_task(start_demo_market(local.url, keys, seed=1))
    print(banner(local.url, keys, settings), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("stopping...", flush=True)
    await local.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the whole OMS locally.")
    parser.add_argument(
        "--demo-market",
        action="store_true",
        help="start a seeded market maker and random traders (also OMS_DEMO_MARKET=true)",
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    telemetry = setup_telemetry(settings, "oms-local", prometheus=True)
    main_task = run(settings, args.demo_market or settings.OMS_DEMO_MARKET, telemetry)
    try:
        import uvloop  # the faster event loop where it installs (not on Windows)
    except ImportError:
        asyncio.run(main_task)
    else:
        uvloop.run(main_task)
    telemetry.shutdown()


if __name__ == "__main__":
    main()
