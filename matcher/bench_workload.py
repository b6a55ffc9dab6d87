"""Writes a reproducible matching workload where a quarter of the orders use the newer order
model: `python -m matcher.bench_workload --seed 42 --ops 1000000 --out FILE.csv.gz`.

The same shape as the standard workload (a random-walk mid price, limit orders around it,
market and marketable orders, cancels and cancel/replace amends of recent orders, one
account per order), with three more codes (the `aux` column):

- 4 iceberg: a GTC limit order showing `aux` lots at a time;
- 5 trailing stop: a GTC trailing stop trailing `aux` ticks (it triggers as a market order);
- 6 bracket: a GTC limit entry with a take-profit `aux` ticks in the money and a stop-loss
  `aux` ticks against it (the legs are `<oid>-tp` / `<oid>-sl`).

Codes as in the standard file: 0 limit GTC, 1 market IOC, 2 cancel (`aux` 1: a bracket's
take-profit, which ends the whole bracket; 2: its stop-loss), 3 amend. Cancels and amends
pick an order still open (the generator plays the rows through an engine as it writes
them), so the book keeps a steady size, as in the standard workload. A `.json`
beside the file records the seed, the parameters and the mix (it has no expected figures:
`python -m matcher.bench FILE` prints what the engine makes of it).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
from pathlib import Path

from matcher.bench import to_commands
from matcher.engine.engine import MatchingEngine
from shared.domain.events import Event

HEADER = ["code", "oid", "side", "price", "qty", "aux"]
MIX = {  # share of ops; the last four are new orders: 17.5 of 70 = a quarter of the orders
    "cancel": 0.25,
    "amend": 0.05,
    "market": 0.05,
    "mlimit": 0.05,
    "limit": 0.425,
    "iceberg": 0.08,
    "bracket": 0.06,
    "trailing": 0.035,
}
CODES = {"limit": 0, "mlimit": 0, "market": 1, "cancel": 2, "amend": 3}
CODES.update({"iceberg": 4, "trailing": 5, "bracket": 6})


def generate(seed: int, ops: int, mid: int = 10_000) -> tuple[list[list[int]], dict[str, int]]:
    """The workload's rows and how many of each kind it has. The rows are played through a
    matching engine as they are made, so that cancels and amends pick orders still open."""
    rng = random.Random(seed)
    kinds = list(MIX)
    weights = [MIX[k] for k in kinds]
    rows: list[list[int]] = []
    mix = dict.fromkeys(kinds, 0)
    engine = MatchingEngine("GEN")
    events: list[Event] = []
    placed: list[tuple[int, int, bool]] = []  # (oid, side, bracket) of orders that may be open
    next_oid = 1
    for n in range(ops):
        if rng.random() < 0.25:
            mid += rng.choice((-1, 1))
        kind = rng.choices(kinds, weights)[0]
        target = _open_order(rng, engine, placed) if kind in ("cancel", "amend") else None
        if target is None and kind in ("cancel", "amend"):
            kind = "limit"
        mix[kind] += 1
        side = rng.randint(0, 1)  # 0 buy, 1 sell
        offset = 1 + int(rng.expovariate(1 / 12))
        qty = rng.randint(1, 100)
        passive = mid - offset if side == 0 else mid + offset
        if target is not None:
            oid, side, leg = target
            if kind == "cancel" or leg:  # (an amend of a bracket cancels it instead)
                row = [2, oid, side, 0, 0, leg]
            else:
                row = [3, oid, side, mid - offset if side == 0 else mid + offset, qty, 0]
        else:
            oid = next_oid
            next_oid += 1
            if kind == "market":
                row = [1, oid, side, 0, qty, 0]
            elif kind == "mlimit":
                row = [0, oid, side, mid + offset if side == 0 else mid - offset, qty, 0]
            elif kind == "limit":
                row = [0, oid, side, passive, qty, 0]
            elif kind == "iceberg":
                row = [4, oid, side, passive, qty, max(1, qty // rng.randint(3, 10))]
            elif kind == "trailing":
                row = [5, oid, side, 0, qty, rng.randint(5, 30)]
            else:
                row = [6, oid, side, passive, qty, rng.randint(5, 30)]
            if kind != "market":
                placed.append((oid, side, kind == "bracket"))
        rows.append(row)
        code, oid, side, price, qty, aux = row
        for command in to_commands([(code, oid, side, price, qty, aux)], "GEN", n)[0]:
            engine.handle(command, events)
        events.clear()
    return rows, mix


def _open_order(
    rng: random.Random, engine: MatchingEngine, placed: list[tuple[int, int, bool]]
) -> tuple[int, int, int] | None:
    """A placed order still open, picked at random: (oid, side, which part: 0 the order or
    a bracket's entry, 1 its take-profit, 2 its stop-loss); None when none is."""
    while placed:
        i = rng.randrange(len(placed))
        oid, side, bracket = placed[i]
        key = str(oid)
        parts = (key, key + "-tp", key + "-sl") if bracket else (key,)
        open_parts = [p for p, part in enumerate(parts) if engine.is_open(part)]
        if open_parts:
            part = 1 if 1 in open_parts else open_parts[0]  # the take-profit ends it all
            return oid, side, part
        placed[i] = placed[-1]
        placed.pop()
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    rows, mix = generate(args.seed, args.ops)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    orders = sum(n for k, n in mix.items() if k not in ("cancel", "amend"))
    newer = mix["iceberg"] + mix["bracket"] + mix["trailing"]
    meta = {
        "n_ops": args.ops,
        "seed": args.seed,
        "mix": mix,
        "newer_order_share": round(newer / orders, 4),
        "params": {"mid": 10_000, "walk_p": 0.25, "mean_offset": 12.0, "max_qty": 100},
    }
    json_path = args.out.with_name(args.out.name.removesuffix(".csv.gz") + ".json")
    json_path.write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
