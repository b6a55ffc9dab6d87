"""Matching benchmark: `python -m matcher.bench WORKLOAD.csv.gz`.

Feeds a workload (columns code,oid,side,price,qty[,aux]; code 0 limit GTC, 1 market IOC,
2 cancel, 3 amend = cancel/replace that loses priority, with a fresh quantity; and, in the
mixed workload of `matcher.bench_workload`, 4 iceberg showing `aux` lots, 5 trailing stop of
`aux` ticks, 6 bracket with exits `aux` ticks away, 2 with `aux` 1 / 2 cancels a bracket's
take-profit / stop-loss) through the engine as production does:
each op becomes domain commands, the engine emits domain events. Checks the results against
the `.json` of the same base name (when it has expected figures) and prints, as its last
line, one JSON object with the figures.

Throughput is the median of 3 untimed-per-op runs; latency comes from a 4th run timing each
op with `perf_counter_ns`. The cyclic GC is paused during the timed runs (the engine creates
no reference cycles; the matcher service does the same between batches).
"""

from __future__ import annotations

import argparse
import csv
import gc
import gzip
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from matcher.engine.engine import MatchingEngine
from matcher.engine.snapshot import state_hash
from shared.domain.commands import CancelOrder, Command, NewOrder, NewOrderGroup
from shared.domain.events import (
    CancelRejected,
    Event,
    OrderFilled,
    OrderRestated,
    OrderTriggered,
    TrailingStopMoved,
)

Op = list[Command]
Row = tuple[int, int, int, int, int, int]


def load_ops(path: Path) -> list[Row]:
    with gzip.open(path, "rt", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header == ["code", "oid", "side", "price", "qty"]:
            return [(int(a), int(b), int(c), int(d), int(e), 0) for a, b, c, d, e in reader]
        if header == ["code", "oid", "side", "price", "qty", "aux"]:
            return [(int(a), int(b), int(c), int(d), int(e), int(x)) for a, b, c, d, e, x in reader]
        raise SystemExit(f"{path}: unexpected header {header}")


def bracket(
    cid: str, n: int, symbol: str, oid: str, side: str, price: int, qty: int, away: int
) -> NewOrderGroup:
    """A GTC limit entry with a take-profit and a stop-loss `away` ticks from it."""
    account = "acct-" + oid
    exit_side = "sell" if side == "buy" else "buy"
    profit = away if side == "buy" else -away
    return NewOrderGroup(
        cid,
        n,
        symbol,
        "bracket",
        (
            NewOrder(
                f"{cid}.0",
                n,
                symbol,
                oid,
                account,
                side,
                "limit",
                "gtc",
                qty,
                price,
                order_class="bracket",
                leg="entry",
            ),
            NewOrder(
                f"{cid}.1",
                n,
                symbol,
                oid + "-tp",
                account,
                exit_side,
                "limit",
                "gtc",
                qty,
                price + profit,
                order_class="bracket",
                leg="take_profit",
                parent_order_id=oid,
            ),
            NewOrder(
                f"{cid}.2",
                n,
                symbol,
                oid + "-sl",
                account,
                exit_side,
                "stop",
                "gtc",
                qty,
                0,
                price - profit,
                order_class="bracket",
                leg="stop_loss",
                parent_order_id=oid,
            ),
        ),
    )


def to_commands(rows: Sequence[Row], symbol: str, first: int = 0) -> list[Op]:
    """One list of commands per op; order id = oid, one account per order (no STP); `first`
    is the number of the first row (its command id and timestamp)."""
    ops: list[Op] = []
    for n, (code, oid, side, price, qty, aux) in enumerate(rows, first):
        order_id = str(oid)
        account = "acct-" + order_id
        side_s = "buy" if side == 0 else "sell"
        cid = str(n)
        if code == 0:
            ops.append(
                [NewOrder(cid, n, symbol, order_id, account, side_s, "limit", "gtc", qty, price)]
            )
        elif code == 1:
            ops.append([NewOrder(cid, n, symbol, order_id, account, side_s, "market", "ioc", qty)])
        elif code == 2:  # (aux 1 / 2: a bracket's take-profit / stop-loss)
            target = order_id + ("", "-tp", "-sl")[aux]
            ops.append([CancelOrder(cid, n, symbol, target, account)])
        elif code == 3:
            ops.append(
                [
                    CancelOrder(cid, n, symbol, order_id, account),
                    NewOrder(
                        cid + "r", n, symbol, order_id, account, side_s, "limit", "gtc", qty, price
                    ),
                ]
            )
        elif code == 4:
            iceberg = NewOrder(
                cid,
                n,
                symbol,
                order_id,
                account,
                side_s,
                "limit",
                "gtc",
                qty,
                price,
                display_qty=aux,
            )
            ops.append([iceberg])
        elif code == 5:
            trailing = NewOrder(
                cid,
                n,
                symbol,
                order_id,
                account,
                side_s,
                "trailing_stop",
                "gtc",
                qty,
                trail_amount=aux,
            )
            ops.append([trailing])
        elif code == 6:
            ops.append([bracket(cid, n, symbol, order_id, side_s, price, qty, aux)])
        else:
            raise SystemExit(f"unknown op code {code} at row {n + 2}")
    return ops


BATCH = 256  # commands per batch, as the matcher service's default MATCHER_BATCH_SIZE


def batches(ops: list[Op]) -> list[list[Command]]:
    flat = [command for op in ops for command in op]
    return [flat[i : i + BATCH] for i in range(0, len(flat), BATCH)]


def run_verify(ops: list[Op], symbol: str) -> tuple[MatchingEngine, list[Event]]:
    """One run keeping every event, to check the results against the expected figures."""
    engine = MatchingEngine(symbol)
    events: list[Event] = []
    for op in ops:
        for command in op:
            engine.handle(command, events)
    return engine, events


def run_throughput(work: list[list[Command]], symbol: str) -> tuple[float, int, str]:
    """Batches through the engine; each batch's events are handed off (dropped) after it,
    as the matcher does once they are journaled. Returns seconds, events, state hash."""
    engine = MatchingEngine(symbol)
    events: list[Event] = []
    process = engine.process
    produced = 0
    gc.collect()
    gc.disable()
    start = time.perf_counter()
    for batch in work:
        process(batch, events)
        produced += len(events)
        events.clear()
    elapsed = time.perf_counter() - start
    gc.enable()
    return elapsed, produced, state_hash(engine)


def run_latency(ops: list[Op], symbol: str) -> list[int]:
    engine = MatchingEngine(symbol)
    events: list[Event] = []
    handle = engine.handle
    clock = time.perf_counter_ns
    samples = [0] * len(ops)
    gc.collect()
    gc.disable()
    for i, op in enumerate(ops):
        t0 = clock()
        for command in op:
            handle(command, events)
        samples[i] = clock() - t0
        if len(events) > 4 * BATCH:
            events.clear()
    gc.enable()
    samples.sort()
    return samples


def results(engine: MatchingEngine, events: list[Event]) -> dict[str, int]:
    fills = [e for e in events if isinstance(e, OrderFilled) and e.liquidity == "maker"]
    return {
        "fill_count": len(fills),
        "fill_volume": sum(e.last_qty for e in fills),
        "fill_notional": sum(e.last_qty * e.last_px for e in fills),
        "resting_orders_end": len(engine.orders),
        "bid_levels_end": len(engine.bids.levels),
        "ask_levels_end": len(engine.asks.levels),
        "cancel_rejects": sum(1 for e in events if isinstance(e, CancelRejected)),
        "restated": sum(1 for e in events if isinstance(e, OrderRestated)),
        "triggered": sum(1 for e in events if isinstance(e, OrderTriggered)),
        "trailing_moved": sum(1 for e in events if isinstance(e, TrailingStopMoved)),
        "events": len(events),
    }


def percentile(sorted_ns: list[int], q: float) -> int:
    return sorted_ns[min(len(sorted_ns) - 1, int(len(sorted_ns) * q))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    symbol = "BENCH"
    rows = load_ops(args.workload)
    ops = to_commands(rows, symbol)
    expected_path = args.workload.with_name(args.workload.name.removesuffix(".csv.gz") + ".json")
    expected = (
        json.loads(expected_path.read_text()).get("expected", {}) if expected_path.exists() else {}
    )

    engine_file = str(getattr(sys.modules[MatchingEngine.__module__], "__file__", ""))
    compiled = engine_file.endswith(".so")
    engine, events = run_verify(ops, symbol)
    measured = results(engine, events)
    reference_hash = state_hash(engine)
    del engine, events
    work = batches(ops)
    rates: list[float] = []
    for run in range(args.runs):
        elapsed, produced, digest = run_throughput(work, symbol)
        rates.append(len(ops) / elapsed)
        same = "same state hash" if digest == reference_hash else "STATE HASH DIFFERS"
        print(
            f"run {run + 1}: {len(ops) / elapsed:,.0f} ops/s "
            f"({elapsed:.3f} s, {produced:,} events, {same})"
        )
        if digest != reference_hash:
            return 1
    latencies = run_latency(ops, symbol)
    checked = (
        "fill_count",
        "fill_volume",
        "fill_notional",
        "resting_orders_end",
        "bid_levels_end",
        "ask_levels_end",
        "cancel_rejects",
    )
    mismatches = {
        k: (measured[k], expected[k])
        for k in checked
        if k in expected and measured[k] != expected[k]
    }
    for key, (got, want) in mismatches.items():
        print(f"MISMATCH {key}: got {got}, expected {want}")
    summary = {
        "workload": args.workload.name,
        "ops": len(ops),
        "ops_per_sec": round(statistics.median(rates)),
        "runs": [round(r) for r in rates],
        "p50_ns": percentile(latencies, 0.50),
        "p99_ns": percentile(latencies, 0.99),
        "p999_ns": percentile(latencies, 0.999),
        **measured,
        "matches_expected": (not mismatches) if expected else None,
        "compiled": compiled,
    }
    print(json.dumps(summary))
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
