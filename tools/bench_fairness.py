"""Benchmark: does one client's heavy reading starve everyone else?

    python -m tools.bench_fairness [--readers 100] [--seconds 15]

Starts the local run in a child process. A heavy account places `--orders` orders, then
reads `GET /api/orders?limit=500` on `--readers` keep-alive connections at once, each
asking again as soon as it has its answer, for `--seconds`. Meanwhile a second account
probes every `--every` seconds: `GET /api/health` on a new connection, and an order
placement on a keep-alive connection of its own (another one while it waits for an
answer). The probes run first alone (the baseline), then under the heavy reads; each phase
prints the probes' p50/p99/max latency and what the heavy reader got (pages/s and its
answers by status). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from tools.bench_localrun import LocalRunProcess, percentile
from tools.loadgen import OrderConnection, order_request

SYMBOL = "AAPL"


@dataclass
class Phase:
    health_ms: list[float] = field(default_factory=list)
    place_ms: list[float] = field(default_factory=list)
    place_statuses: dict[int, int] = field(default_factory=dict)
    pages: int = 0
    read_statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    def figures(self) -> dict[str, Any]:
        def stats(values: list[float]) -> dict[str, float]:
            return {
                "p50_ms": round(percentile(values, 0.5), 1),
                "p99_ms": round(percentile(values, 0.99), 1),
                "max_ms": round(max(values, default=0.0), 1),
                "n": len(values),
            }

        return {
            "health": stats(self.health_ms),
            "place": stats(self.place_ms),
            "place_statuses": self.place_statuses,
            "heavy_pages_per_sec": round(self.pages / self.seconds, 1) if self.seconds else 0,
            "heavy_statuses": self.read_statuses,
        }


async def _health_on_new_connection(host: str, port: int) -> float:
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(b"GET /api/health HTTP/1.1\r\nHost: oms\r\nConnection: close\r\n\r\n")
        await reader.read()  # to the end: the server closes after answering
    finally:
        writer.close()
    return (time.perf_counter() - t0) * 1000


async def _probe(host: str, port: int, key: str, every: float, until: float, phase: Phase) -> None:
    idle: list[OrderConnection] = []  # keep-alive; a new one while all are answering
    n = 0

    async def place() -> None:
        nonlocal n
        n += 1
        connection = idle.pop() if idle else OrderConnection(host, port)
        body = {
            "symbol": SYMBOL,
            "side": "buy",
            "type": "limit",
            "quantity": "1",
            "limit_price": "180.00",
            "time_in_force": "gtc",
            "client_order_id": f"probe-{time.time_ns()}-{n}",
        }
        t0 = time.perf_counter()
        status, _ = await connection.post(order_request(f"{host}:{port}", key, body))
        phase.place_ms.append((time.perf_counter() - t0) * 1000)
        phase.place_statuses[status] = phase.place_statuses.get(status, 0) + 1
        idle.append(connection)

    async def health() -> None:
        phase.health_ms.append(await _health_on_new_connection(host, port))

    tasks: list[asyncio.Task[None]] = []
    while time.perf_counter() < until:
        tasks += [asyncio.create_task(health()), asyncio.create_task(place())]
        await asyncio.sleep(every)
    await asyncio.gather(*tasks)
    for connection in idle:
        connection.close()


async def _reader(host: str, port: int, key: str, until: float, phase: Phase) -> None:
    """One keep-alive connection reading full pages of orders back to back."""
    reader, writer = await asyncio.open_connection(host, port)
    request = (
        f"GET /api/orders?limit=500 HTTP/1.1\r\nHost: oms\r\nX-API-Key: {key}\r\n\r\n"
    ).encode()
    try:
        while time.perf_counter() < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            phase.read_statuses[status] = phase.read_statuses.get(status, 0) + 1
            if status == 200:
                phase.pages += 1
            elif status == 429:
                retry = next(
                    (
                        float(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"retry-after:")
                    ),
                    1.0,
                )
                await asyncio.sleep(min(retry, max(0.0, until - time.perf_counter())))
    finally:
        writer.close()


async def _fill(host: str, port: int, key: str, orders: int) -> None:
    queue = list(range(orders))

    async def worker() -> None:
        connection = OrderConnection(host, port)
        while queue:
            i = queue.pop()
            body = {
                "symbol": SYMBOL,
                "side": "buy" if i % 2 else "sell",
                "type": "limit",
                "quantity": "1",
                "limit_price": "180.00" if i % 2 else "200.00",
                "time_in_force": "gtc",
                "client_order_id": f"heavy-{i}",
            }
            status, raw = await connection.post(order_request(f"{host}:{port}", key, body))
            if status != 202:
                raise SystemExit(f"placing the heavy account's orders failed: {status} {raw!r}")
        connection.close()

    await asyncio.gather(*(worker() for _ in range(16)))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with LocalRunProcess() as oms:
        host, port = "127.0.0.1", oms.port
        heavy = await oms.account("heavy-reader")
        probe = await oms.account("probe")
        await _fill(host, port, heavy, args.orders)
        await asyncio.sleep(1.0)  # let the matcher answer them
        alone = Phase(seconds=args.baseline)
        await _probe(host, port, probe, args.every, time.perf_counter() + args.baseline, alone)
        loaded = Phase(seconds=args.seconds)
        until = time.perf_counter() + args.seconds
        await asyncio.gather(
            _probe(host, port, probe, args.every, until, loaded),
            *(_reader(host, port, heavy, until, loaded) for _ in range(args.readers)),
        )
    return {
        "readers": args.readers,
        "alone": alone.figures(),
        "under_heavy_reads": loaded.figures(),
    }


def _line(name: str, figures: dict[str, Any]) -> str:
    h, p = figures["health"], figures["place"]
    return (
        f"{name}: health p50 {h['p50_ms']} ms p99 {h['p99_ms']} ms max {h['max_ms']} ms;"
        f" place p50 {p['p50_ms']} ms p99 {p['p99_ms']} ms max {p['max_ms']} ms"
        f" {figures['place_statuses']}; heavy {figures['heavy_pages_per_sec']} pages/s"
        f" {figures['heavy_statuses']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="read fairness benchmark")
    parser.add_argument("--orders", type=int, default=600, help="the heavy account's orders")
    parser.add_argument("--readers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--baseline", type=float, default=5.0)
    parser.add_argument("--every", type=float, default=0.2, help="seconds between probes")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    print(_line("alone", result["alone"]))
    print(_line(f"under {args.readers} heavy readers", result["under_heavy_reads"]))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
