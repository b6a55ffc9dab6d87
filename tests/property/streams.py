"""Seeded random command streams over one instrument, mixing every command kind."""

from __future__ import annotations

import random

from shared.domain.commands import (
    CancelAll,
    CancelOrder,
    Command,
    ExpireOrders,
    NewOrder,
    ReplaceOrder,
    SetTradingState,
)

ACCOUNTS = ("a", "b", "c", "p1", "p2")
STP = {"a": "cancel_newest", "b": "cancel_oldest", "c": "cancel_both"}


def random_commands(seed: int, n: int, symbol: str = "TEST", paper: bool = True) -> list[Command]:
    """`n` commands; accounts p1/p2 trade on the paper venue when `paper` is set."""
    rng = random.Random(seed)
    ts = 1_000_000_000
    ids: list[tuple[str, str]] = []
    out: list[Command] = []
    for i in range(n):
        ts += rng.choice((1, 10, 1_000, 500_000_000))
        roll = rng.random()
        cid = f"{seed}-{i}"
        if roll < 0.6 or not ids:
            account = rng.choice(ACCOUNTS if paper else ACCOUNTS[:3])
            kind = rng.choice(("limit", "limit", "limit", "market", "stop", "stop_limit"))
            tif = rng.choice(("gtc", "gtc", "day", "ioc", "fok", "gtd"))
            order_id = f"o{i}"
            ids.append((order_id, account))
            out.append(
                NewOrder(
                    cid,
                    ts,
                    symbol,
                    order_id,
                    account,
                    rng.choice(("buy", "sell")),
                    kind,
                    tif,
                    rng.randint(1, 20),
                    rng.randint(95, 105) if kind in ("limit", "stop_limit") else 0,
                    rng.randint(95, 105) if kind in ("stop", "stop_limit") else 0,
                    ts + rng.randint(1, 3) * 1_000_000_000 if tif == "gtd" else 0,
                    STP.get(account, "cancel_newest"),
                    "paper" if account.startswith("p") else "internal",
                )
            )
        elif roll < 0.75:
            order_id, account = rng.choice(ids[-20:])
            out.append(CancelOrder(cid, ts, symbol, order_id, account))
        elif roll < 0.88:
            order_id, account = rng.choice(ids[-20:])
            out.append(
                ReplaceOrder(
                    cid,
                    ts,
                    symbol,
                    order_id,
                    account,
                    rng.choice((0, rng.randint(1, 25))),
                    rng.choice((0, rng.randint(95, 105))),
                )
            )
        elif roll < 0.96:
            out.append(ExpireOrders(cid, ts, symbol, rng.random() < 0.1))
        elif roll < 0.995:
            out.append(CancelAll(cid, ts, symbol, rng.choice(("", "a", "p1"))))
        else:
            out.append(SetTradingState(cid, ts, symbol, rng.choice(("halted", "active"))))
    return out
