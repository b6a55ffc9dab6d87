"""`kill -9` the one-command local run in the middle of a burst of orders, start it again on
the same data folder, and every order that got a 202 is there, once, and ends consistent.

The local run's bus is in memory: the kill loses every command and event batch in flight.
What makes the guarantee hold is durable: the order documents (with their pending
commands), the matcher's journal and the projected mark; the restarted run replays the
journal past the mark and resends every pending command before its matcher starts.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "adm_kill9-test-key-0123456789abcdef"
PRICES = {"AAPL": Decimal("190.00"), "MSFT": Decimal("420.00")}
PENDING = ("pending_new", "pending_cancel", "pending_replace")
SEEDS = (11, 23, 37)
LIMITS = {"rate_per_second": 2_000, "burst": 4_000, "max_open_orders": 100_000}


@dataclass
class Trader:
    account_id: str
    key: str
    acked: dict[str, str] = field(default_factory=dict)  # order id -> client order id (202)
    symbols: dict[str, str] = field(default_factory=dict)  # order id -> symbol

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


class LocalRunProcess:
    """`python -m localrun` as a child process on a data folder."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir = data_dir
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SERVICEBUS_", "MONGODB_", "REDIS_", "SIGNALR_"))
        }
        env.update(
            OMS_DATA_DIR=str(self.data_dir),
            OMS_HOST="127.0.0.1",
            OMS_PORT=str(self.port),
            OMS_ADMIN_API_KEY=ADMIN_KEY,
            OMS_DEMO_MARKET="false",
        )
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "localrun"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def wait_healthy(self, http: httpx.AsyncClient, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
            try:
                if (await http.get(f"{self.url}/api/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"the local run did not become healthy:\n{self.log.read_text()}")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()


async def new_trader(http: httpx.AsyncClient, url: str, name: str) -> Trader:
    response = await http.post(
        f"{url}/api/admin/accounts",
        json={"name": name, "type": "live", "risk_limits": LIMITS},
        headers={"X-API-Key": ADMIN_KEY},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Trader(body["account"]["account_id"], body["api_key"])


async def trade(
    http: httpx.AsyncClient, url: str, trader: Trader, rng: random.Random, tag: str
) -> None:
    """Place crossing limit orders, cancel and replace some, until the process dies."""
    n = 0
    while True:
        n += 1
        try:
            roll = rng.random()
            if trader.acked and roll < 0.15:
                order_id = rng.choice(sorted(trader.acked))
                response = await http.delete(f"{url}/api/orders/{order_id}", headers=trader.headers)
                assert response.status_code in (202, 409), response.text
            elif trader.acked and roll < 0.30:
                order_id = rng.choice(sorted(trader.acked))
                change = {"quantity": str(rng.randint(5, 40))}
                if rng.random() < 0.5:
                    reference = PRICES[trader.symbols[order_id]]
                    change = {"limit_price": str(reference + Decimal(rng.randint(-50, 50)) / 100)}
                response = await http.patch(
                    f"{url}/api/orders/{order_id}", json=change, headers=trader.headers
                )
                # 409: not open any more; 422: a quantity at or below the filled part.
                assert response.status_code in (202, 409, 422), response.text
            else:
                symbol = rng.choice(sorted(PRICES))
                side = rng.choice(("buy", "sell"))
                skew = Decimal(rng.randint(-40, 40)) / 100
                price = PRICES[symbol] + (skew if side == "buy" else -skew)
                client_order_id = f"{tag}-{trader.account_id[-6:]}-{n}"
                body = {
                    "symbol": symbol,
                    "side": side,
                    "type": "limit",
                    "quantity": str(rng.randint(1, 30)),
                    "limit_price": str(price),
                    "time_in_force": "gtc",
                    "client_order_id": client_order_id,
                }
                response = await http.post(f"{url}/api/orders", json=body, headers=trader.headers)
                assert response.status_code == 202, response.text
                order_id = response.json()["order_id"]
                trader.acked[order_id] = client_order_id
                trader.symbols[order_id] = symbol
        except httpx.TransportError:
            return  # killed: the outcome of this last request is unknown
        await asyncio.sleep(rng.random() * 0.004)


async def get_all(http: httpx.AsyncClient, url: str, path: str, trader: Trader) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        response = await http.get(f"{url}{path}", params=params, headers=trader.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def settled_orders(
    http: httpx.AsyncClient, url: str, traders: list[Trader], timeout: float = 20.0
) -> dict[str, list[dict[str, Any]]]:
    """Every trader's orders once none is pending (AssertionError naming them if late)."""
    deadline = time.monotonic() + timeout
    while True:
        orders = {t.account_id: await get_all(http, url, "/api/orders", t) for t in traders}
        pending = [o for items in orders.values() for o in items if o["status"] in PENDING]
        if not pending:
            return orders
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(pending)} orders still pending, e.g. {pending[:3]}")
        await asyncio.sleep(0.2)


async def one_crash(tmp: Path, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    run = LocalRunProcess(tmp / "data", tmp / "localrun.log")
    async with httpx.AsyncClient(timeout=10) as http:
        run.start()
        try:
            await run.wait_healthy(http)
            keys = json.loads((run.data_dir / "local-keys.json").read_text())
            demo = Trader(keys["live_account"], keys["live_key"])
            traders = [demo] + [await new_trader(http, run.url, f"t{seed}-{i}") for i in range(3)]
            workers = [
                asyncio.create_task(
                    trade(http, run.url, t, random.Random(rng.random()), f"s{seed}w{i}")
                )
                for i, t in enumerate(traders * 2)  # two concurrent streams per account
            ]
            await asyncio.sleep(rng.uniform(0.4, 2.0))  # the kill lands mid-stream
            run.kill9()
            await asyncio.gather(*workers)

            run.start()  # same data folder
            await run.wait_healthy(http)
            orders = await settled_orders(http, run.url, traders)
            await check(http, run.url, traders, orders)
        finally:
            run.stop()
    acked = sum(len(t.acked) for t in traders)
    return {"acked": acked, "orders": sum(len(o) for o in orders.values())}


async def check(
    http: httpx.AsyncClient,
    url: str,
    traders: list[Trader],
    orders: dict[str, list[dict[str, Any]]],
) -> None:
    bought: Counter[str] = Counter()
    sold: Counter[str] = Counter()
    for trader in traders:
        mine = orders[trader.account_id]
        ids = Counter(o["order_id"] for o in mine)
        client_ids = Counter(o["client_order_id"] for o in mine)
        assert max(ids.values(), default=1) == 1, "an order listed twice"
        assert max(client_ids.values(), default=1) == 1, "a client order id used twice"
        by_id = {o["order_id"]: o for o in mine}
        for order_id, client_order_id in trader.acked.items():
            assert order_id in by_id, f"acknowledged order {order_id} is lost"
            response = await http.get(
                f"{url}/api/orders/by-client-id/{client_order_id}", headers=trader.headers
            )
            assert response.status_code == 200 and response.json()["order_id"] == order_id
        executions = await get_all(http, url, "/api/executions", trader)
        assert len({e["execution_id"] for e in executions}) == len(executions)
        filled: dict[str, Decimal] = defaultdict(Decimal)
        for e in executions:
            filled[e["order_id"]] += Decimal(e["quantity"])
            (bought if e["side"] == "buy" else sold)[e["symbol"]] += int(Decimal(e["quantity"]))
        for o in mine:
            quantity, done = Decimal(o["quantity"]), Decimal(o["filled_quantity"])
            leaves, canceled = Decimal(o["leaves_quantity"]), Decimal(o["canceled_quantity"])
            assert done + leaves + canceled == quantity, o
            assert done == filled[o["order_id"]], o
            if o["status"] in ("filled", "canceled", "rejected", "expired"):
                assert leaves == 0, o
            else:
                assert o["status"] in ("new", "partially_filled") and leaves > 0, o
    assert bought == sold


def test_every_acknowledged_order_survives_a_kill_9_and_ends_consistent(tmp_path: Path):
    for seed in SEEDS:
        figures = asyncio.run(one_crash(tmp_path / f"seed-{seed}", seed))
        assert figures["acked"] > 0, "the kill came before any order was acknowledged"
        print(f"seed {seed}: {figures}")
