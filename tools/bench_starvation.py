"""Benchmark: how long an order on a new instrument waits for its first answer while the
matcher's session slots are taken. `python -m tools.bench_starvation`

Starts the local run in a child process (MATCHER_MAX_SESSIONS = `--slots`), then two
scenarios, each `--tries` times: place an order on an instrument nobody has traded yet and
poll `GET /api/orders/{id}` until it leaves `pending_new`; the time from sending it to
seeing `new` is one try.

1. busy: `--busy-factor` x `--slots` instruments are kept busy by a steady stream of orders
   (`--busy-rate` orders/s over all of them) while the tries run.
2. halt: `--stored` instruments are stored, each with a resting order; the whole market is
   halted and resumed (`POST /api/admin/trading-state`, scope global), and the tries start at
   once.

Each scenario prints p50/p99/max of the time to `new`; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import httpx

from tools.bench_localrun import LocalRunProcess, percentile
from tools.loadgen import OrderConnection, order_request

NEW_INSTRUMENT = {"tick_size": "0.01", "lot_size": "1", "reference_price": "100"}


def _order(symbol: str, side: str, price: str, coid: str) -> dict[str, str]:
    return {
        "symbol": symbol,
        "side": side,
        "type": "limit",
        "quantity": "1",
        "limit_price": price,
        "time_in_force": "gtc",
        "client_order_id": coid,
    }


async def _instruments(oms: LocalRunProcess, prefix: str, n: int) -> list[str]:
    symbols = [f"{prefix}{i}" for i in range(n)]
    for symbol in symbols:
        await oms.admin("POST", "/api/admin/instruments", {"symbol": symbol, **NEW_INSTRUMENT})
    return symbols


async def _time_to_new(http: httpx.AsyncClient, key: str, symbol: str, timeout: float) -> float:
    headers = {"X-API-Key": key}
    body = _order(symbol, "buy", "99.00", f"try-{symbol}")
    started = time.perf_counter()
    placed = await http.post("/api/orders", json=body, headers=headers)
    if placed.status_code != 202:
        raise RuntimeError(f"order on {symbol} refused: {placed.status_code} {placed.text}")
    order_id = placed.json()["order_id"]
    while time.perf_counter() - started < timeout:
        order = (await http.get(f"/api/orders/{order_id}", headers=headers)).json()
        if order["status"] != "pending_new":
            if order["status"] != "new":
                raise RuntimeError(f"order on {symbol} ended {order['status']}")
            return time.perf_counter() - started
        await asyncio.sleep(0.01)
    return float("inf")  # no answer within the timeout


async def _busy(oms: LocalRunProcess, key: str, symbols: list[str], rate: float) -> None:
    """Orders spread over `symbols` at `rate` per second until cancelled; each instrument's
    buys and sells cross, so the books stay small."""
    connection = OrderConnection("127.0.0.1", oms.port)
    n = 0
    started = time.perf_counter()
    try:
        while True:
            symbol = symbols[n % len(symbols)]
            side = "buy" if (n // len(symbols)) % 2 else "sell"
            body = _order(symbol, side, "100.00", f"busy-{n}")
            await connection.post(order_request(f"127.0.0.1:{oms.port}", key, body))
            n += 1
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
    finally:
        connection.close()


async def _tries(
    http: httpx.AsyncClient, key: str, symbols: list[str], timeout: float
) -> list[float]:
    return [await _time_to_new(http, key, symbol, timeout) for symbol in symbols]


def _figures(seconds: list[float]) -> dict[str, Any]:
    answered = [s for s in seconds if s != float("inf")]
    return {
        "tries": len(seconds),
        "unanswered": len(seconds) - len(answered),
        "p50_ms": round(percentile(seconds, 0.5) * 1000, 1),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 1),
        "max_ms": round(max(seconds, default=0.0) * 1000, 1),
    }


async def busy_scenario(args: argparse.Namespace) -> dict[str, Any]:
    settings = {"MATCHER_MAX_SESSIONS": str(args.slots)}
    async with (
        LocalRunProcess(settings) as oms,
        httpx.AsyncClient(base_url=oms.url, timeout=60) as http,
    ):
        trader, prober = await oms.account("busy-trader"), await oms.account("prober")
        busy = await _instruments(oms, "BUSY", args.busy_factor * args.slots)
        fresh = await _instruments(oms, "FRESH", args.tries)
        load = asyncio.create_task(_busy(oms, trader, busy, args.busy_rate))
        await asyncio.sleep(3.0)  # every busy instrument has taken a slot or queued for one
        try:
            seconds = await _tries(http, prober, fresh, args.timeout)
        finally:
            load.cancel()
            await asyncio.gather(load, return_exceptions=True)
    return {"busy_instruments": len(busy), **_figures(seconds)}


async def halt_scenario(args: argparse.Namespace) -> dict[str, Any]:
    settings = {"MATCHER_MAX_SESSIONS": str(args.slots)}
    async with (
        LocalRunProcess(settings) as oms,
        httpx.AsyncClient(base_url=oms.url, timeout=60) as http,
    ):
        trader, prober = await oms.account("resting-trader"), await oms.account("prober")
        fresh = await _instruments(oms, "FRESH", args.tries)
        listed = (await http.get("/api/instruments", headers={"X-API-Key": trader})).json()
        resting = await _instruments(oms, "REST", max(0, args.stored - len(listed["items"])))
        headers = {"X-API-Key": trader}
        for n, symbol in enumerate(resting):
            reply = await http.post(
                "/api/orders", json=_order(symbol, "buy", "99.00", f"rest-{n}"), headers=headers
            )
            if reply.status_code != 202:
                raise RuntimeError(f"resting order refused: {reply.text}")
        await asyncio.sleep(2.0)
        stored = len((await http.get("/api/instruments", headers=headers)).json()["items"])
        everything = {"scope": "global"}
        await oms.admin("POST", "/api/admin/trading-state", {**everything, "state": "halted"})
        await oms.admin("POST", "/api/admin/trading-state", {**everything, "state": "active"})
        seconds = await _tries(http, prober, fresh, args.timeout)
    return {"instruments_stored": stored, **_figures(seconds)}


def _line(name: str, figures: dict[str, Any]) -> str:
    return (
        f"{name}: time to new p50 {figures['p50_ms']} ms p99 {figures['p99_ms']} ms"
        f" max {figures['max_ms']} ms over {figures['tries']} tries"
        f" ({figures['unanswered']} unanswered)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="matcher session starvation benchmark")
    parser.add_argument("--slots", type=int, default=8, help="MATCHER_MAX_SESSIONS")
    parser.add_argument("--busy-factor", type=int, default=4)
    parser.add_argument("--busy-rate", type=float, default=200.0)
    parser.add_argument("--stored", type=int, default=200)
    parser.add_argument("--tries", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per try")
    parser.add_argument("--only", choices=("busy", "halt"))
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"slots": args.slots}
    if args.only in (None, "busy"):
        result["busy"] = asyncio.run(busy_scenario(args))
        name = f"{result['busy']['busy_instruments']} busy instruments, {args.slots} slots"
        print(_line(name, result["busy"]), flush=True)
    if args.only in (None, "halt"):
        result["halt"] = asyncio.run(halt_scenario(args))
        name = f"after a global halt and resume, {result['halt']['instruments_stored']} stored"
        print(_line(name, result["halt"]), flush=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
