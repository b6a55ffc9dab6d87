"""`python -m tools.bench_venue_path`: orders per second and order-to-ack / order-to-fill
latency of orders routed to an external FIX venue through the whole local run (issue #18):
HTTP POST /api/orders -> intake and risk -> the instrument's worker (journal, outbox) ->
the in-process gateway -> QuickFIX over loopback TCP -> the exchange simulator
(`tools.fix_exchange --auto-fill`, its own process) -> the reports back as commands on the
instrument's session -> the matcher journals them -> the projector updates the order.

Times are the order's own records: from its creation (intake) to when the matcher journaled
the venue's acknowledgement (`accepted_at`) and the fill that completed it (`completed_at`).
`--window` orders are in flight at most. Prints one line per figure and a JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from pathlib import Path

import httpx

from localrun.host import LocalRun
from shared.config.settings import Settings
from shared.domain.order import TERMINAL_STATUSES
from tests.support.fix_exchange import FixExchange
from tests.support.redis_server import free_port
from tools.bench_fix import percentile

LIMITS = {"rate_per_second": 100_000, "burst": 100_000, "max_open_orders": 100_000,
          "max_daily_orders": 10_000_000}  # fmt: skip


async def run(orders: int, window: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-venue-") as tmp:
        folder = Path(tmp)
        exchange = await FixExchange(folder / "exchange", target="OMS-BENCH").start()
        await exchange.post("/mode", auto_fill=True)
        settings = Settings(
            OMS_DATA_DIR=folder / "oms", OMS_HOST="127.0.0.1", OMS_PORT=free_port(),
            OMS_DEMO_MARKET=False,
        )  # fmt: skip
        local = LocalRun(settings)
        keys = await local.start()
        admin = {"X-API-Key": keys.admin}
        try:
            async with httpx.AsyncClient(base_url=local.url, timeout=30) as http:
                venue = {
                    "name": "bench", "kind": "fix", "host": "127.0.0.1",
                    "port": exchange.fix_port, "sender_comp_id": "OMS-BENCH",
                    "target_comp_id": "EXCH", "heartbeat_seconds": 30,
                    "rate_per_second": 10_000, "burst": 10_000,
                }  # fmt: skip
                defined = await http.post("/api/admin/venues", json=venue, headers=admin)
                assert defined.is_success, defined.text
                while True:
                    items = (await http.get("/api/admin/venues", headers=admin)).json()["items"]
                    if items and items[0]["state"] == "connected":
                        break
                    await asyncio.sleep(0.2)
                made = await http.post(
                    "/api/admin/accounts",
                    json={"name": "bench", "type": "live", "risk_limits": LIMITS},
                    headers=admin,
                )
                account = made.json()
                key = {"X-API-Key": account["api_key"]}
                account_id = account["account"]["account_id"]
                routed = await http.patch(
                    f"/api/admin/accounts/{account_id}", json={"venue": "bench"}, headers=admin
                )
                assert routed.is_success, routed.text
                ids: list[str] = []
                times: list[tuple[int, int]] = []
                gate = asyncio.Semaphore(window)
                started = time.perf_counter()

                async def place(n: int) -> None:
                    body = {"symbol": "AAPL", "side": "buy" if n % 2 else "sell",
                            "type": "limit", "quantity": "1", "limit_price": "190.00",
                            "time_in_force": "gtc", "client_order_id": f"b-{n}"}  # fmt: skip
                    async with gate:
                        reply = await http.post("/api/orders", json=body, headers=key)
                        assert reply.status_code == 202, reply.text
                        ids.append(reply.json()["order_id"])
                        times.append(await until_done(local, ids[-1]))

                await asyncio.gather(*(place(n) for n in range(orders)))
                elapsed = time.perf_counter() - started
        finally:
            await local.stop()
            await exchange.stop()
        return figures(times, elapsed)


async def until_done(local: LocalRun, order_id: str) -> tuple[int, int]:
    """(ns to the venue's ack, ns to the completing fill), as the order records them."""
    assert local.container is not None
    store = local.container.store
    while True:
        order = await store.orders.get_any(order_id)
        if order is not None and order.status in TERMINAL_STATUSES and order.completed_at:
            assert order.status.value == "filled", order
            return order.accepted_at - order.created_at, order.completed_at - order.created_at
        await asyncio.sleep(0.005)


def figures(times: list[tuple[int, int]], elapsed: float) -> dict[str, float]:
    acks = [ack for ack, _ in times]
    fills = [fill for _, fill in times]
    return {
        "orders": len(times),
        "orders_per_second": round(len(times) / elapsed, 1),
        "ack_p50_ms": percentile(acks, 0.5),
        "ack_p99_ms": percentile(acks, 0.99),
        "fill_p50_ms": percentile(fills, 0.5),
        "fill_p99_ms": percentile(fills, 0.99),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2_000)
    parser.add_argument("--window", type=int, default=32)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(run(args.orders, args.window))
    for name, value in result.items():
        print(f"{name}: {value}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
