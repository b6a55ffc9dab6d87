"""Throughput of the executions projector: `python -m tools.bench_projector`.

The workload: N limit orders from several accounts on one instrument, prices alternating
around the reference so about half of them trade (as `tools.loadgen` sends), run through the
real venue; its events, grouped as the matcher's outbox groups them (consecutive commands'
events, up to `--batch-events` per batch, each stamped with its processing time), are what
the projector gets. Every order is stored first (as intake does); the figure is the time
`project_batch` takes for all the batches, one after the other, on a file SQLite store
(the embedded default), with everything the projector now does: orders, executions,
positions with their money (cost basis, realized P&L, cash by settlement day), every event
into the audit trail and each order's activity for execution analytics.

Two figures: events per second of wall time (each batch waits for its commit, as the
executions trigger does) and per CPU second of the event loop's thread (what the projector
costs the process it shares with the API in the local run; less sensitive to a busy machine).

`--against REV` runs the same workload on the code of git revision REV too (extracted to a
temporary folder, with this tree's compiled engine and events, whose sources it shares), in
alternating rounds in one run, so both see the same machine: the "before and after" of a
change. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_700_000_000_000_000_000


def make_workload(orders: int, accounts: int, batch_events: int, seed: int) -> dict[str, Any]:
    """Orders (as stored at intake) and the executions queue's message bodies."""
    import random

    from matcher.service.venue import new_venue
    from shared.domain.commands import NewOrder
    from shared.domain.events import Event

    rng = random.Random(seed)
    venue = new_venue("AAPL", 0, 50, 19_000)
    rows: list[dict[str, Any]] = []
    entries: list[tuple[list[dict[str, object]], int]] = []
    for i in range(orders):
        side = "buy" if i % 2 else "sell"
        price = 19_000 + (rng.randint(-2, 3) if side == "buy" else rng.randint(-3, 2))
        ts = T0 + i * 1_000_000
        order_id = f"{ts // 1_000_000:012x}{i:020x}"
        account = f"bench-{i % accounts}"
        rows.append(
            {"order_id": order_id, "account": account, "side": side, "price": price, "ts": ts}
        )
        command = NewOrder(
            f"{order_id}.new", ts, "AAPL", order_id, account, side, "limit", "gtc", 10, price
        )
        out: list[Event] = []
        venue.handle(command, out)
        entries.append(([e.to_dict() for e in out], ts + 2_000_000))
    bodies: list[dict[str, Any]] = []
    run: list[dict[str, object]] = []
    stamps: list[list[int]] = []
    for events, processed_at in entries:
        if run and len(run) + len(events) > batch_events:
            bodies.append(_body(run, stamps))
            run, stamps = [], []
        stamps.append([int(str(events[0]["seq"])), processed_at])
        run += events
    if run:
        bodies.append(_body(run, stamps))
    return {"orders": rows, "batches": bodies}


def _body(events: list[dict[str, object]], stamps: list[list[int]]) -> dict[str, Any]:
    return {
        "symbol": "AAPL",
        "command_id": "bench",
        "first_seq": events[0]["seq"],
        "last_seq": events[-1]["seq"],
        "events": events,
        "processed": stamps,  # an older projector ignores it
    }


async def _project(workload: dict[str, Any], data_dir: str) -> dict[str, float]:
    """Store the orders, then time the projection of every batch."""
    from decimal import Decimal

    import orjson

    from shared.adapters.bus_memory import InMemoryBus
    from shared.adapters.cache_memory import MemoryCache
    from shared.adapters.factory import memory_queues
    from shared.adapters.signalr_off import DiscardingNotifier
    from shared.adapters.sqlite.store import open_sqlite_store
    from shared.bootstrap import bootstrap
    from shared.config.settings import Settings
    from shared.domain.enums import OrderType, Side, TimeInForce
    from shared.domain.instrument import Instrument
    from shared.domain.order import Order
    from shared.messages import decode_event_batch
    from shared.services import projector as _projector

    project_batch = _projector.project_batch

    settings = Settings(OMS_DATA_DIR=Path(data_dir))
    store = await open_sqlite_store(Path(data_dir) / "bench.sqlite3")
    container = await bootstrap(
        settings,
        store=store,
        bus=InMemoryBus(memory_queues(settings)),
        cache=MemoryCache(),
        notifier=DiscardingNotifier(),
    )
    await store.instruments.create(
        Instrument("AAPL", Decimal("0.01"), Decimal("1"), taker_fee_cbps=50, reference_price=19_000)
    )
    orders = [
        Order(
            order_id=o["order_id"],
            client_order_id=o["order_id"],
            account_id=o["account"],
            symbol="AAPL",
            side=Side(o["side"]),
            type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            quantity=10,
            limit_price=o["price"],
            stop_price=None,
            created_at=o["ts"],
        )
        for o in workload["orders"]
    ]
    for start in range(0, len(orders), 500):
        await asyncio.gather(*(store.orders.create(o) for o in orders[start : start + 500]))
    batches = [decode_event_batch(orjson.dumps(body)) for body in workload["batches"]]
    events = sum(len(b.events) for b in batches)
    started, cpu = time.perf_counter(), time.thread_time()
    for batch in batches:
        await project_batch(container, batch)
    seconds = time.perf_counter() - started
    cpu = time.thread_time() - cpu  # the event loop's own CPU (commits run on their thread)
    await container.aclose()
    await store.close()
    return {
        "seconds": round(seconds, 3),
        "events": events,
        "batches": len(batches),
        "events_per_sec": round(events / seconds, 1),
        "orders_per_sec": round(len(orders) / seconds, 1),
        "events_per_cpu_sec": round(events / cpu, 1),
    }


def _worker(workload_path: str) -> None:
    workload = json.loads(Path(workload_path).read_text())
    with tempfile.TemporaryDirectory(prefix="bench-projector-") as data_dir:
        print(json.dumps(asyncio.run(_project(workload, data_dir))), flush=True)


def _extract(revision: str, into: Path) -> Path:
    """The tree of `revision`, with this tree's compiled modules for its unchanged sources."""
    tree = into / "tree"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    for compiled in ROOT.glob("**/*.cpython-*.so"):
        relative = compiled.relative_to(ROOT)
        if ".venv" in relative.parts:
            continue
        source = ROOT / relative.parent / (relative.name.split(".")[0] + ".py")
        theirs = tree / relative.parent / source.name
        if theirs.exists() and theirs.read_bytes() == source.read_bytes():
            shutil.copy2(compiled, tree / relative)
    for compiled in ROOT.glob("*.cpython-*.so"):  # mypyc's shared runtime module
        shutil.copy2(compiled, tree / compiled.name)
    return tree


def _run(tree: Path, workload_path: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", workload_path],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=8)
    parser.add_argument("--batch-events", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--against", help="a git revision to measure too (before/after)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-projector-") as tmp:
        workload_path = str(Path(tmp) / "workload.json")
        workload = make_workload(args.orders, args.accounts, args.batch_events, args.seed)
        Path(workload_path).write_text(json.dumps(workload))
        trees = {"this": ROOT}
        if args.against:
            trees = {args.against: _extract(args.against, Path(tmp)), "this": ROOT}
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for _ in range(args.rounds):  # alternating, so a slow spell of the machine hits both
            for name, tree in trees.items():
                result = _run(tree, workload_path)
                runs[name].append(result)
                print(
                    f"{name}: {result['events_per_sec']} events/s,"
                    f" {result['events_per_cpu_sec']} per CPU second of the event loop",
                    flush=True,
                )
    summary: dict[str, Any] = {"orders": args.orders, "batch_events": args.batch_events}
    for name, results in runs.items():
        summary[name] = {
            "events": results[0]["events"],
            "batches": results[0]["batches"],
            "events_per_sec": statistics.median(r["events_per_sec"] for r in results),
            "orders_per_sec": statistics.median(r["orders_per_sec"] for r in results),
            "events_per_cpu_sec": statistics.median(r["events_per_cpu_sec"] for r in results),
        }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
