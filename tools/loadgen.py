"""End-to-end load benchmark over real HTTP: `python -m tools.loadgen`.

Places limit orders from several accounts against a running OMS (by default the local run
on http://127.0.0.1:7071) at a target rate for a fixed time, and measures:
- accepted orders/s (202 responses) and the acceptance latency p50/p99,
- fully processed orders/s: orders that left `pending_new` (resting, filled, canceled...)
  as seen through `GET /api/orders/{id}`, i.e. matched by the matcher and projected back.

Prices alternate around the instrument's reference price so roughly half the orders trade.
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit

import aiohttp
import orjson

from tools.bench_localrun import GENEROUS_LIMITS


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    accepted: list[tuple[str, str]] = field(default_factory=list)  # (api key, order id)
    rejected: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


async def create_accounts(
    session: aiohttp.ClientSession, base: str, admin_key: str, n: int
) -> list[str]:
    keys = []
    for i in range(n):
        body = {
            "name": f"loadgen-{i}-{int(time.time())}",
            "type": "live",
            "risk_limits": GENEROUS_LIMITS,
        }
        async with session.post(
            f"{base}/api/admin/accounts", json=body, headers={"X-API-Key": admin_key}
        ) as r:
            data = await r.json()
            if r.status != 201:
                raise SystemExit(f"creating a load account failed: {r.status} {data}")
            keys.append(str(data["api_key"]))
    return keys


async def reference(
    session: aiohttp.ClientSession, base: str, key: str, symbol: str
) -> tuple[Decimal, Decimal]:
    """The instrument's reference price and tick size."""
    async with session.get(f"{base}/api/instruments", headers={"X-API-Key": key}) as r:
        data = await r.json()
    for item in data["items"]:
        if item["symbol"] == symbol:
            return Decimal(item["reference_price"] or "100"), Decimal(item["tick_size"])
    raise SystemExit(f"instrument {symbol} not found")


class OrderConnection:
    """One keep-alive HTTP/1.1 connection that posts orders and reads the answers.

    Raw asyncio streams, not an HTTP client library: the load generator shares the
    machine with the server it measures, so every microsecond it spends per request is
    taken from the server (aiohttp's client cost about three times as much CPU)."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, request: bytes) -> tuple[int, bytes]:
        """Send one request (bytes as on the wire); the response's status and body."""
        if self._writer is None or self._reader is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        try:
            self._writer.write(request)
            head = await self._reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length, close = 0, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            body = await self._reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            self.close()
            raise
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def order_request(host: str, key: str, body: dict[str, str]) -> bytes:
    payload = orjson.dumps(body)
    head = (
        f"POST /api/orders HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def place_orders(
    base: str,
    keys: list[str],
    symbol: str,
    ref: Decimal,
    tick: Decimal,
    rate: float,
    seconds: float,
    concurrency: int,
    seed: int,
) -> tuple[Tally, float]:
    rng = random.Random(seed)
    tally = Tally()
    total = int(rate * seconds)
    queue: asyncio.Queue[int | None] = asyncio.Queue()
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    start = time.perf_counter()

    async def pacer() -> None:
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await queue.put(i)
        for _ in range(concurrency):
            await queue.put(None)

    async def worker() -> None:
        connection = OrderConnection(host, port)
        while (i := await queue.get()) is not None:
            key = keys[i % len(keys)]
            side = "buy" if rng.random() < 0.5 else "sell"
            offset = tick * rng.randint(-3, 3)
            body = {
                "symbol": symbol,
                "side": side,
                "type": "limit",
                "quantity": str(rng.randint(1, 10)),
                "limit_price": str(ref + offset),
                "time_in_force": "gtc",
                "client_order_id": f"lg-{seed}-{i}",
            }
            request = order_request(url.netloc, key, body)
            t0 = time.perf_counter()
            try:
                status, raw = await connection.post(request)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                tally.errors += 1
                continue
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
            if status == 202:
                tally.latencies_ms.append((time.perf_counter() - t0) * 1000)
                tally.accepted.append((key, str(orjson.loads(raw)["order_id"])))
            else:
                tally.rejected += 1
        connection.close()

    await asyncio.gather(pacer(), *(worker() for _ in range(concurrency)))
    return tally, time.perf_counter() - start


async def has_pending(session: aiohttp.ClientSession, base: str, key: str) -> bool:
    """Whether the account still has an order in pending_new. The load accounts are new,
    so every order they have is one of ours; one row is enough to know."""
    params = {"status": "pending_new", "limit": "1"}
    async with session.get(f"{base}/api/orders", params=params, headers={"X-API-Key": key}) as r:
        data = orjson.loads(await r.read())
        if r.status != 200:
            raise SystemExit(f"listing pending orders failed: {r.status} {data}")
    return bool(data["items"])


async def wait_processed(
    session: aiohttp.ClientSession, base: str, accepted: list[tuple[str, str]], timeout: float
) -> tuple[int, float]:
    """Poll until every accepted order left pending_new; returns (processed, seconds).
    One one-row listing per account and round, so the polling does not load the server it
    measures; the orders of the accounts still pending at the timeout count as unprocessed
    (counted exactly, at the end only)."""
    start = time.perf_counter()
    keys = sorted({key for key, _ in accepted})
    while keys and time.perf_counter() - start < timeout:
        busy = await asyncio.gather(*(has_pending(session, base, key) for key in keys))
        keys = [key for key, pending in zip(keys, busy, strict=True) if pending]
        if keys:
            await asyncio.sleep(0.05)
    waited = time.perf_counter() - start
    unprocessed = 0
    for key in keys:
        unprocessed += len(await pending_of(session, base, key))
    return len(accepted) - unprocessed, waited


async def pending_of(session: aiohttp.ClientSession, base: str, key: str) -> set[str]:
    """The ids of the account's orders still pending_new."""
    pending: set[str] = set()
    params = {"status": "pending_new", "limit": "500"}
    while True:
        async with session.get(
            f"{base}/api/orders", params=params, headers={"X-API-Key": key}
        ) as r:
            data = orjson.loads(await r.read())
            if r.status != 200:
                raise SystemExit(f"listing pending orders failed: {r.status} {data}")
        pending.update(str(item["order_id"]) for item in data["items"])
        if not data["next_cursor"]:
            return pending
        params = {**params, "cursor": str(data["next_cursor"])}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        keys = await create_accounts(session, args.url, args.admin_key, args.accounts)
        ref, tick = await reference(session, args.url, keys[0], args.symbol)
        tally, placing = await place_orders(
            args.url,
            keys,
            args.symbol,
            ref,
            tick,
            args.rate,
            args.seconds,
            args.concurrency,
            args.seed,
        )
        processed, waited = await wait_processed(
            session, args.url, tally.accepted, args.wait_seconds
        )
    accepted = len(tally.accepted)
    return {
        "target_rate": args.rate,
        "seconds": round(placing, 2),
        "accepted": accepted,
        "accepted_per_sec": round(accepted / placing, 1),
        "accept_p50_ms": round(pct(tally.latencies_ms, 0.50), 2),
        "accept_p99_ms": round(pct(tally.latencies_ms, 0.99), 2),
        "accept_mean_ms": round(statistics.fmean(tally.latencies_ms), 2) if accepted else 0,
        "rejected": tally.rejected,
        "errors": tally.errors,
        "statuses": tally.statuses,
        "processed": processed,
        "processed_per_sec": round(processed / (placing + waited), 1),
        "all_processed": processed == accepted,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7071")
    parser.add_argument("--admin-key", required=True, help="the admin API key (OMS_ADMIN_API_KEY)")
    parser.add_argument("--symbol", default="AAPL")
    parser.add_argument("--rate", type=float, default=1_000.0, help="orders per second to offer")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--accounts", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--wait-seconds",
        type=float,
        default=120.0,
        help="how long to wait, after the last order, for all to be processed",
    )
    args = parser.parse_args(argv)
    try:
        import uvloop  # the faster event loop, as the server uses (not on Windows)
    except ImportError:
        summary = asyncio.run(main_async(args))
    else:
        summary = uvloop.run(main_async(args))
    print(
        f"accepted {summary['accepted_per_sec']}/s (p50 {summary['accept_p50_ms']} ms, "
        f"p99 {summary['accept_p99_ms']} ms); processed {summary['processed_per_sec']}/s"
    )
    print(json.dumps(summary))
    return 0 if summary["all_processed"] and not summary["errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
