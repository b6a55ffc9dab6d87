"""Benchmark: what the local SignalR hub delivers to 100 connected clients.

    python -m tools.bench_signalr [--clients 100] [--messages 1000]

The hub runs in a child process (uvicorn on a loopback port); this process holds the clients
(raw `websockets` connections speaking the JSON hub protocol) and sends through the REST
notifier, as the Function App and the matcher do. It prints messages/s delivered for
send-to-all and send-to-group, and the latency from the REST send to client receipt
(p50/p99), paced and under load. The last line is one JSON object with the figures.

On a 2-core machine the clients and the sender share one Python process that saturates a
core, so the delivery figures are a lower bound for the hub itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from shared.adapters.signalr_rest import AccessKeyAuth, SignalRRestNotifier

RS = "\x1e"
HUB = "bench"
GROUP = "bench-group"
KEY_ENV = "SIGNALR_BENCH_ACCESS_KEY"


def _serve() -> None:
    """Child process: the hub app on a free loopback port; prints its URL, runs until killed."""
    from shared.signalr_hub import LocalHub, create_hub_app
    from shared.signalr_hub.serve import serving

    async def run() -> None:
        hub = LocalHub(os.environ[KEY_ENV], max_pending=1_000_000)
        async with serving(create_hub_app(hub)) as url:
            print(url, flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


class Client:
    """One raw client: counts invocations and records send-to-receipt latencies."""

    def __init__(self, ws: ClientConnection, connection_id: str) -> None:
        self.ws = ws
        self.connection_id = connection_id
        self.received = 0
        self.latencies_ns: list[int] = []
        self.target_count = 0
        self.done = asyncio.Event()

    def expect(self, count: int) -> None:
        self.received, self.target_count = 0, count
        self.latencies_ns = []
        self.done.clear()

    async def keep_alive(self) -> None:
        """Ping like a real client: the hub drops clients silent for 30 s."""
        while True:
            await asyncio.sleep(10)
            await self.ws.send('{"type":6}' + RS)

    async def read(self) -> None:
        async for frame in self.ws:
            text = frame.decode() if isinstance(frame, bytes) else frame
            now = time.monotonic_ns()
            for record in text.split(RS):
                if not record or '"type":1' not in record:
                    continue
                message = json.loads(record)
                self.latencies_ns.append(now - message["arguments"][0]["t"])
                self.received += 1
                if self.received >= self.target_count:
                    self.done.set()


async def open_hub_socket(
    http: httpx.AsyncClient, url: str, token: str
) -> tuple[ClientConnection, str]:
    """Follow a redirect negotiate response (`url`, `accessToken`) as a SignalR client does:
    negotiate at the hub, open the WebSocket, JSON handshake. Returns it and the connection id."""
    negotiate_url = url.replace("/client/?", "/client/negotiate?") + "&negotiateVersion=1"
    response = await http.post(negotiate_url, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    direct = response.json()
    ws_url = "ws" + url.removeprefix("http")
    ws = await websockets.connect(
        f"{ws_url}&id={direct['connectionToken']}&access_token={token}", max_queue=None
    )
    await ws.send('{"protocol":"json","version":1}' + RS)
    if await ws.recv() != "{}" + RS:
        raise RuntimeError("handshake refused")
    return ws, str(direct["connectionId"])


async def _connect(http: httpx.AsyncClient, notifier: SignalRRestNotifier, user: str) -> Client:
    url, token = await notifier.client_access(user)
    return Client(*await open_hub_socket(http, url, token))


def _percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


async def _round(
    clients: list[Client],
    send: Callable[[int], Awaitable[None]],
    count: int,
    *,
    concurrency: int,
    pace: float = 0.0,
) -> dict[str, float]:
    """Send `count` messages (each reaching every client) and wait until all arrived."""
    for client in clients:
        client.expect(count)
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await send(i)

    started = time.perf_counter()
    tasks = []
    for i in range(count):
        tasks.append(asyncio.create_task(one(i)))
        if pace:
            await asyncio.sleep(pace)
    await asyncio.gather(*tasks)
    sent_at = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(c.done.wait() for c in clients)), timeout=120)
    elapsed = time.perf_counter() - started
    latencies = [v for c in clients for v in c.latencies_ns]
    print(f"  round of {count} messages: {elapsed:.2f} s", file=sys.stderr)
    return {
        "messages": count,
        "deliveries": count * len(clients),
        "seconds": elapsed,
        "sends_per_s": count / (sent_at - started),
        "delivered_per_s": count * len(clients) / elapsed,
        "p50_ms": _percentile(latencies, 0.50),
        "p99_ms": _percentile(latencies, 0.99),
        "mean_ms": statistics.fmean(latencies) / 1e6,
    }


async def _bench(n_clients: int, n_messages: int) -> dict[str, Any]:
    key = secrets.token_urlsafe(32)
    child = subprocess.Popen(
        [sys.executable, "-m", "tools.bench_signalr", "--serve"],
        stdout=subprocess.PIPE,
        env={**os.environ, KEY_ENV: key},
        text=True,
    )
    try:
        assert child.stdout is not None
        base_url = (await asyncio.to_thread(child.stdout.readline)).strip()
        if not base_url.startswith("http"):
            raise RuntimeError("the hub process did not start")
        notifier = SignalRRestNotifier(base_url, HUB, AccessKeyAuth(key))
        async with httpx.AsyncClient() as http:
            clients = [await _connect(http, notifier, f"user{i}") for i in range(n_clients)]
        readers = [asyncio.create_task(c.read()) for c in clients]
        readers += [asyncio.create_task(c.keep_alive()) for c in clients]
        for client in clients:
            await notifier.add_connection_to_group(client.connection_id, GROUP)

        async def to_all(i: int) -> None:
            await notifier.send_to_all("tick", [{"i": i, "t": time.monotonic_ns()}])

        async def to_group(i: int) -> None:
            await notifier.send_to_group(GROUP, "tick", [{"i": i, "t": time.monotonic_ns()}])

        await _round(clients, to_all, 50, concurrency=1)  # warm-up
        paced = await _round(clients, to_all, 200, concurrency=1, pace=0.01)
        loaded_all = await _round(clients, to_all, n_messages, concurrency=16)
        loaded_group = await _round(clients, to_group, n_messages, concurrency=16)
        for reader in readers:
            reader.cancel()
        for client in clients:
            await client.ws.close()
        await notifier.aclose()
        return {"paced": paced, "send_to_all": loaded_all, "send_to_group": loaded_group}
    finally:
        child.terminate()
        child.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        _serve()
        return
    result = asyncio.run(_bench(options.clients, options.messages))
    n = options.clients
    for name in ("send_to_all", "send_to_group"):
        r = result[name]
        print(
            f"{name}: {r['messages']} messages x {n} clients in {r['seconds']:.2f} s = "
            f"{r['delivered_per_s']:,.0f} messages/s delivered ({r['sends_per_s']:,.0f} REST "
            f"sends/s); send-to-receipt p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms"
        )
    paced = result["paced"]
    print(
        f"paced (100 sends/s to all {n} clients): send-to-receipt p50 {paced['p50_ms']:.2f} ms, "
        f"p99 {paced['p99_ms']:.2f} ms"
    )
    figures = {
        "clients": n,
        "send_to_all_messages_per_s": round(result["send_to_all"]["delivered_per_s"]),
        "send_to_group_messages_per_s": round(result["send_to_group"]["delivered_per_s"]),
        "rest_sends_per_s": round(result["send_to_all"]["sends_per_s"]),
        "latency_ms_p50": round(paced["p50_ms"], 3),
        "latency_ms_p99": round(paced["p99_ms"], 3),
        "loaded_latency_ms_p50": round(result["send_to_all"]["p50_ms"], 3),
        "loaded_latency_ms_p99": round(result["send_to_all"]["p99_ms"], 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
