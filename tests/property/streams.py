"""Seeded random command streams over one instrument, mixing every command kind: orders of
every type and instruction, contingent groups, on both venues, and the clock."""

from __future__ import annotations

import random

from shared.domain.commands import (
    CancelAll,
    CancelOrder,
    Command,
    ConfigureInstrument,
    ExpireOrders,
    NewOrder,
    NewOrderGroup,
    ReplaceOrder,
    SetTradingState,
)

ACCOUNTS = ("a", "b", "c", "d", "p1", "p2")
STP = {"a": "cancel_newest", "b": "cancel_oldest", "c": "cancel_both", "d": "decrement"}


def _group(
    rng: random.Random, cid: str, ts: int, symbol: str, n: int, account: str
) -> NewOrderGroup:
    """A bracket, OTO or OCO around a random price (now and then with prices that do not fit)."""
    order_class = rng.choice(("bracket", "bracket", "oto", "oco"))
    side = rng.choice(("buy", "sell"))
    qty = rng.randint(1, 15)
    price = rng.randint(95, 105)
    up = 1 if side == "buy" else -1
    venue = "paper" if account.startswith("p") else "internal"
    stp = STP.get(account, "cancel_newest")
    exit_tif = rng.choice(("gtc", "gtc", "day"))
    orders: list[NewOrder] = []

    def add(leg: str, leg_side: str, kind: str, px: int, stop: int, parent: str, **kw: int) -> None:
        orders.append(
            NewOrder(
                f"{cid}.{len(orders)}",
                ts,
                symbol,
                f"g{n}-{leg}",
                account,
                leg_side,
                kind,
                str(kw.pop("tif", 0) or exit_tif),
                qty,
                px,
                stop,
                0,
                stp,
                venue,
                order_class=order_class,
                leg=leg,
                parent_order_id=parent,
                trail_amount=kw.pop("trail", 0),
            )
        )

    parent = ""
    exit_side = side
    if order_class != "oco":
        kind = rng.choice(("limit", "limit", "market", "stop"))
        add(
            "entry",
            side,
            kind,
            price if kind == "limit" else 0,
            price if kind == "stop" else 0,
            "",
        )
        parent = f"g{n}-entry"
        exit_side = "sell" if side == "buy" else "buy"
    gap = rng.randint(-1, 5)
    tp = price + up * gap if order_class != "oco" else price - up * gap
    sl = price - up * 2 if order_class != "oco" else price + up * 2
    legs: tuple[str, ...] = ("take_profit", "stop_loss")
    if order_class == "oto":
        legs = (rng.choice(legs),)
    for leg in legs:
        if leg == "take_profit":
            add(leg, exit_side, "limit", tp, 0, parent)
            if order_class == "oco":
                parent = f"g{n}-take_profit"
        elif rng.random() < 0.4:
            add(leg, exit_side, "trailing_stop", 0, 0, parent, trail=rng.randint(1, 3))
        else:
            add(leg, exit_side, "stop", 0, sl, parent)
    return NewOrderGroup(cid, ts, symbol, order_class, tuple(orders))


def random_commands(seed: int, n: int, symbol: str = "TEST", paper: bool = True) -> list[Command]:
    """`n` commands; accounts p1/p2 trade on the paper venue when `paper` is set."""
    rng = random.Random(seed)
    ts = 1_000_000_000
    ids: list[tuple[str, str]] = []
    out: list[Command] = []
    accounts = ACCOUNTS if paper else ACCOUNTS[:4]
    for i in range(n):
        ts += rng.choice((1, 10, 1_000, 500_000_000))
        roll = rng.random()
        cid = f"{seed}-{i}"
        if roll < 0.5 or not ids:
            account = rng.choice(accounts)
            kind = rng.choice(
                ("limit", "limit", "limit", "market", "stop", "stop_limit", "trailing_stop")
            )
            tif = rng.choice(("gtc", "gtc", "day", "ioc", "fok", "gtd"))
            order_id = f"o{i}"
            ids.append((order_id, account))
            is_limit = kind == "limit"
            trail_amount, trail_cbps = 0, 0
            if kind == "trailing_stop" and rng.random() < 0.5:
                trail_amount = rng.randint(1, 4)
            elif kind == "trailing_stop":
                trail_cbps = rng.choice((10_000, 20_000))
            qty = rng.randint(1, 20)
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
                    qty,
                    rng.randint(95, 105) if kind in ("limit", "stop_limit") else 0,
                    rng.randint(95, 105) if kind in ("stop", "stop_limit") else 0,
                    ts + rng.randint(1, 3) * 1_000_000_000 if tif == "gtd" else 0,
                    STP.get(account, "cancel_newest"),
                    "paper" if account.startswith("p") else "internal",
                    display_qty=rng.choice((0, 0, 0, 2, 5)) if is_limit and qty > 5 else 0,
                    post_only=is_limit and rng.random() < 0.15,
                    reduce_only=rng.random() < 0.15,
                    trail_amount=trail_amount,
                    trail_cbps=trail_cbps,
                )
            )
        elif roll < 0.6:
            account = rng.choice(accounts)
            group = _group(rng, cid, ts, symbol, i, account)
            ids.extend((o.order_id, account) for o in group.orders)
            out.append(group)
        elif roll < 0.72:
            order_id, account = rng.choice(ids[-20:])
            out.append(CancelOrder(cid, ts, symbol, order_id, account))
        elif roll < 0.84:
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
                    rng.choice((0, 0, 0, rng.randint(95, 105))),
                    "",
                    rng.choice((0, 0, 0, 2)),
                )
            )
        elif roll < 0.95:
            out.append(ExpireOrders(cid, ts, symbol, rng.random() < 0.15))
        elif roll < 0.98:
            out.append(CancelAll(cid, ts, symbol, rng.choice(("", "a", "p1"))))
        elif roll < 0.99:
            out.append(ConfigureInstrument(cid, ts, symbol, rng.randint(0, 10), rng.randint(0, 30)))
        else:
            out.append(SetTradingState(cid, ts, symbol, rng.choice(("halted", "active"))))
    return out
