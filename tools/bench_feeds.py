"""Benchmark: latency from a fill to the client's receipt of `executionReported`, end to end.

    python -m tools.bench_feeds [--resting 500] [--paced 200] [--concurrency 16]

Starts the one-command local run (`python -m localrun`) in a child process with its data
in a temporary folder, makes a maker and a taker account through the admin API, connects one
SignalR client per account through `POST /api/negotiate` (raw WebSocket, JSON hub protocol),
rests `--resting` sell orders of one lot, then crosses them with buy orders over HTTP: first
`--paced` one at a time (each waits for its report), then the rest `--concurrency` at a time.

The fill's time is the execution's `executed_at`: the engine takes it from the command, which
the API stamps when it accepts the order. So the figure covers intake, the orders queue, the
matcher (journal, publish), the executions queue, the projector (store writes) and the
SignalR push, to the client's receipt. It also prints HTTP-send-to-receipt, and checks the
taker's account stream for gaps. The last line is one JSON object with the figures.

All in one machine: the client process and the OMS process share its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from shared.feeds.streams import EXECUTION_REPORTED, ORDER_UPDATED
from tools.bench_signalr import RS, open_hub_socket

SYMBOL = "AAPL"
PRICE = "190.00"
LIMITS = {
    "max_order_notional": "1000000",
    "max_open_orders": 1_000_000,
    "max_daily_orders": 1_000_000,
    "rate_per_second": 100_000,
    "burst": 100_000,
    "credit_limit": "1000000000",
}


def rfc3339_ns(text: str) -> int:
    """Nanoseconds since the epoch of `2024-05-01T12:00:00.123456789Z` (the API's shape)."""
    stamp, _, fraction = text.rstrip("Z").partition(".")
    seconds = int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())
    return seconds * 1_000_000_000 + int((fraction or "0").ljust(9, "0")[:9])


def _percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


@dataclass
class FeedClient:
    """One account's hub connection: records `(receipt ns, target, envelope)`."""

    ws: ClientConnection
    received: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    reports: dict[str, int] = field(default_factory=dict)  # order id -> receipt ns
    accepted: set[str] = field(default_factory=set)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def read(self) -> None:
        async for frame in self.ws:
            now = time.time_ns()
            text = frame.decode() if isinstance(frame, bytes) else frame
            for record in text.split(RS):
                if not record or '"type":1' not in record:
                    continue
                message = json.loads(record)
                target, envelope = message["target"], message["arguments"][0]
                self.received.append((now, target, envelope))
                data = envelope["data"]
                if target == EXECUTION_REPORTED:
                    self.reports[data["order_id"]] = now
                elif target == ORDER_UPDATED and data.get("status") == "new":
                    self.accepted.add(data["order_id"])
            self.changed.set()

    async def keep_alive(self) -> None:
        while True:  # the hub drops clients silent for 30 s
            await asyncio.sleep(10)
            await self.ws.send('{"type":6}' + RS)

    async def wait(self, condition: Any, timeout: float = 120.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


class Oms:
    """The local run in a child process, reached over HTTP."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "OMS_DATA_DIR": str(data_dir),
            "OMS_PORT": str(port),
            "OMS_HOST": "127.0.0.1",
            "OMS_DEMO_MARKET": "false",
        }
        self.data_dir = data_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "localrun"], env=env, stdout=subprocess.DEVNULL
        )
        self.http = httpx.AsyncClient(base_url=self.url, timeout=30)
        self.keys: dict[str, str] = {}

    async def started(self) -> None:
        for _ in range(600):
            if self.proc.poll() is not None:
                raise RuntimeError("the local run exited during start-up")
            with contextlib.suppress(httpx.HTTPError):
                if (await self.http.get("/api/health")).status_code == 200:
                    self.keys = json.loads((self.data_dir / "local-keys.json").read_text())
                    return
            await asyncio.sleep(0.05)
        raise RuntimeError("the local run did not start in 30 s")

    async def account(self, name: str) -> str:
        body = {"name": name, "type": "live", "risk_limits": LIMITS}
        headers = {"X-API-Key": self.keys["admin"]}
        response = await self.http.post("/api/admin/accounts", json=body, headers=headers)
        response.raise_for_status()
        return str(response.json()["api_key"])

    async def client(self, key: str) -> FeedClient:
        response = await self.http.post("/api/negotiate", headers={"X-API-Key": key})
        response.raise_for_status()
        access = response.json()
        ws, _ = await open_hub_socket(self.http, access["url"], access["accessToken"])
        return FeedClient(ws)

    async def place(self, key: str, side: str, n: int) -> tuple[str, int]:
        body = {
            "symbol": SYMBOL,
            "side": side,
            "type": "limit",
            "quantity": "1",
            "limit_price": PRICE,
            "time_in_force": "gtc",
            "client_order_id": f"{side}-{n}",
        }
        sent = time.time_ns()
        response = await self.http.post("/api/orders", json=body, headers={"X-API-Key": key})
        if response.status_code != 202:
            raise RuntimeError(f"order refused: {response.status_code} {response.text}")
        return str(response.json()["order_id"]), sent

    async def aclose(self) -> None:
        await self.http.aclose()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _figures(taker: FeedClient, sent: dict[str, int], order_ids: list[str]) -> dict[str, float]:
    executed = {
        e["data"]["order_id"]: rfc3339_ns(e["data"]["executed_at"])
        for _, t, e in taker.received
        if t == EXECUTION_REPORTED
    }
    fill = [taker.reports[o] - executed[o] for o in order_ids]
    http = [taker.reports[o] - sent[o] for o in order_ids]
    return {
        "orders": len(order_ids),
        "fill_to_receipt_p50_ms": _percentile(fill, 0.50),
        "fill_to_receipt_p99_ms": _percentile(fill, 0.99),
        "send_to_receipt_p50_ms": _percentile(http, 0.50),
        "send_to_receipt_p99_ms": _percentile(http, 0.99),
    }


async def _bench(resting: int, paced: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="oms-bench-feeds-") as data_dir:
        oms = Oms(Path(data_dir), _free_port())
        tasks: list[asyncio.Task[None]] = []
        try:
            await oms.started()
            maker_key, taker_key = await oms.account("maker"), await oms.account("taker")
            maker, taker = await oms.client(maker_key), await oms.client(taker_key)
            for c in (maker, taker):
                tasks += [asyncio.create_task(c.read()), asyncio.create_task(c.keep_alive())]

            gate = asyncio.Semaphore(concurrency)
            sent: dict[str, int] = {}

            async def one(key: str, side: str, n: int) -> str:
                async with gate:
                    order_id, at = await oms.place(key, side, n)
                    sent[order_id] = at
                    return order_id

            started = time.perf_counter()
            await asyncio.gather(*(one(maker_key, "sell", n) for n in range(resting)))
            await maker.wait(lambda: len(maker.accepted) >= resting)
            rest_s = time.perf_counter() - started

            paced_ids: list[str] = []
            for n in range(paced):
                order_id = await one(taker_key, "buy", n)
                await taker.wait(lambda o=order_id: o in taker.reports)
                paced_ids.append(order_id)

            burst = resting - paced
            started = time.perf_counter()
            burst_ids = await asyncio.gather(
                *(one(taker_key, "buy", paced + n) for n in range(burst))
            )
            await taker.wait(lambda: all(o in taker.reports for o in burst_ids))
            burst_s = time.perf_counter() - started

            account = [e for _, t, e in taker.received if t != "trade" and t != "book"]
            seqs = [e["seq"] for e in account]
            gaps = sum(1 for a, b in itertools.pairwise(seqs) if b != a + 1)
            return {
                "resting": resting,
                "rest_seconds": rest_s,
                "paced": _figures(taker, sent, paced_ids),
                "burst": {
                    **_figures(taker, sent, list(burst_ids)),
                    "seconds": burst_s,
                    "fills_per_s": burst / burst_s if burst_s else 0.0,
                },
                "taker_messages": len(account),
                "gaps": gaps,
                "epochs": len({e["epoch"] for e in account}),
            }
        finally:
            for task in tasks:
                task.cancel()
            await oms.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resting", type=int, default=500)
    parser.add_argument("--paced", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    if not 0 < options.paced < options.resting:
        parser.error("need 0 < --paced < --resting")
    r = asyncio.run(_bench(options.resting, options.paced, options.concurrency))
    p, b = r["paced"], r["burst"]
    print(f"rested {r['resting']} sell orders in {r['rest_seconds']:.2f} s")
    print(
        f"paced ({p['orders']} crossing orders, one at a time): fill-to-receipt "
        f"p50 {p['fill_to_receipt_p50_ms']:.1f} ms, p99 {p['fill_to_receipt_p99_ms']:.1f} ms; "
        f"HTTP-send-to-receipt p50 {p['send_to_receipt_p50_ms']:.1f} ms, "
        f"p99 {p['send_to_receipt_p99_ms']:.1f} ms"
    )
    print(
        f"burst ({b['orders']} crossing orders, {options.concurrency} at a time, "
        f"{b['fills_per_s']:.0f} fills/s): fill-to-receipt p50 "
        f"{b['fill_to_receipt_p50_ms']:.1f} ms, p99 {b['fill_to_receipt_p99_ms']:.1f} ms; "
        f"HTTP-send-to-receipt p50 {b['send_to_receipt_p50_ms']:.1f} ms, "
        f"p99 {b['send_to_receipt_p99_ms']:.1f} ms"
    )
    print(
        f"taker account stream: {r['taker_messages']} messages, {r['gaps']} gaps, "
        f"{r['epochs']} epoch(s)"
    )
    figures = {
        "resting_orders": r["resting"],
        "fill_to_receipt_ms_p50": round(p["fill_to_receipt_p50_ms"], 2),
        "fill_to_receipt_ms_p99": round(p["fill_to_receipt_p99_ms"], 2),
        "send_to_receipt_ms_p50": round(p["send_to_receipt_p50_ms"], 2),
        "send_to_receipt_ms_p99": round(p["send_to_receipt_p99_ms"], 2),
        "loaded_fill_to_receipt_ms_p50": round(b["fill_to_receipt_p50_ms"], 2),
        "loaded_fill_to_receipt_ms_p99": round(b["fill_to_receipt_p99_ms"], 2),
        "loaded_fills_per_s": round(b["fills_per_s"]),
        "account_stream_gaps": r["gaps"],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
