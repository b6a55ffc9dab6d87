"""`python -m tools.bench_fix`: orders per second and order-to-ack / order-to-fill latency
through the FIX connector (QuickFIX initiator) against the FIX exchange simulator
(`tools.fix_exchange --auto-fill`, its own process) on loopback.

Each order is timed from the call to `place()` to the ExecutionReport that acknowledges it
(ExecType 0) and to the one that fills it (ExecType F, nothing left), as the connector's sink
takes them. `--window` orders are in flight at most; the venue's token bucket is set wide
open so the figure is the connector's, not a rate limit's. By default the session's numbers
are kept in a SQLite store as a gateway replica keeps them (`--no-durable`: QuickFIX's file
store only). Prints one line per figure and a JSON line with all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from gateway.fix.connector import FixConnector
from gateway.fix.durable import DurableSession, session_key
from gateway.fix.session import SessionConfig
from gateway.ratelimit import TokenBucket
from shared.adapters.sqlite.store import open_sqlite_store
from shared.domain.enums import OrderType, Side, TimeInForce
from shared.ports.venue import ReportKind, VenueOrder, VenueReport

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[int], share: float) -> float:
    """The value below which `share` of them lie (nearest rank), in milliseconds."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))
    return ordered[rank] / 1e6


def start_exchange(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    command = [
        sys.executable, "-m", "tools.fix_exchange", "--data-dir", str(folder),
        "--sender-comp-id", "EXCH", "--target-comp-id", "OMS", "--auto-fill",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, env=env)
    assert process.stdout is not None
    ready = json.loads(process.stdout.readline())
    if "error" in ready:
        raise RuntimeError(ready["error"])
    return process, int(ready["fix_port"])


class Timings:
    """The sink: when each order was acknowledged and filled."""

    def __init__(self, expected: int, window: int) -> None:
        self.sent: dict[str, int] = {}
        self.acked: dict[str, int] = {}
        self.filled: dict[str, int] = {}
        self.expected = expected
        self.done = asyncio.Event()
        self.window = asyncio.Semaphore(window)  # a filled order frees its place

    async def __call__(self, report: VenueReport) -> None:
        now = time.perf_counter_ns()
        if report.kind is ReportKind.NEW:
            self.acked.setdefault(report.cl_ord_id, now)
        elif report.is_fill and report.leaves_qty == 0 and report.cl_ord_id not in self.filled:
            self.filled[report.cl_ord_id] = now
            self.window.release()
            if len(self.filled) == self.expected:
                self.done.set()


async def run(args: argparse.Namespace, folder: Path) -> dict[str, object]:
    exchange, port = start_exchange(folder / "exchange")
    store = await open_sqlite_store(folder / "oms.sqlite3")
    try:
        config = SessionConfig(
            "127.0.0.1", port, "OMS", "EXCH", folder / "oms", heartbeat_seconds=30
        )
        durable = (
            None if args.no_durable else DurableSession(store.venues, session_key("bench", config))
        )
        connector = FixConnector(
            "bench", config, bucket=TokenBucket(1_000_000, 1_000_000), durable=durable
        )
        timings = Timings(args.orders, args.window)
        await connector.start(timings)
        if not await connector.wait_connected(30):
            raise RuntimeError("the connector did not log on")

        async def place(i: int) -> None:
            order = VenueOrder(
                f"b-{i}", "AAPL", Side.BUY if i % 2 else Side.SELL, OrderType.LIMIT,
                TimeInForce.DAY, Decimal(100), time.time_ns(), price=Decimal("101.25"),
            )  # fmt: skip
            timings.sent[order.cl_ord_id] = time.perf_counter_ns()
            await connector.place(order)

        started = time.perf_counter_ns()
        for i in range(args.orders):
            await timings.window.acquire()
            await place(i)
        await asyncio.wait_for(timings.done.wait(), 120)
        elapsed = (time.perf_counter_ns() - started) / 1e9
        await connector.stop()
    finally:
        await store.close()
        exchange.send_signal(signal.SIGTERM)
        exchange.wait(15)
    ack = [timings.acked[k] - timings.sent[k] for k in timings.sent]
    fill = [timings.filled[k] - timings.sent[k] for k in timings.sent]
    return {
        "orders": args.orders,
        "window": args.window,
        "durable": not args.no_durable,
        "seconds": round(elapsed, 3),
        "orders_per_sec": round(args.orders / elapsed, 1),
        "ack_p50_ms": round(percentile(ack, 0.50), 3),
        "ack_p99_ms": round(percentile(ack, 0.99), 3),
        "fill_p50_ms": round(percentile(fill, 0.50), 3),
        "fill_p99_ms": round(percentile(fill, 0.99), 3),
        "fill_mean_ms": round(statistics.fmean(fill) / 1e6, 3),
        "session_state_writes": durable.writes if durable is not None else 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=5_000)
    parser.add_argument("--window", type=int, default=50, help="orders in flight at most")
    parser.add_argument("--no-durable", action="store_true", help="no session state in a store")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-fix-") as folder:
        result = asyncio.run(run(args, Path(folder)))
    kept = "session numbers kept in SQLite" if result["durable"] else "QuickFIX file store only"
    print(
        f"fix orders: {result['orders']} in {result['seconds']} s ="
        f" {result['orders_per_sec']} orders/s (window {result['window']}, {kept},"
        f" {result['session_state_writes']} session-state writes)"
    )
    print(f"order-to-ack:  p50 {result['ack_p50_ms']} ms  p99 {result['ack_p99_ms']} ms")
    print(f"order-to-fill: p50 {result['fill_p50_ms']} ms  p99 {result['fill_p99_ms']} ms")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
