"""Snapshots of an engine's full state, restore, and the state hash.

A snapshot is a JSON-able dict listing every working order in priority order, so
`restore(snapshot(e))` continues exactly as `e` would: same events, same state hash.

Newer state is written only when there is some, so a book of plain orders snapshots as it
did before it existed (and such snapshots restore): `held` (contingent legs with nothing
live), `reduce_only` (each account's reduce-only orders, oldest first); an order's newer
fields ride in its row (`RestingOrder.to_row`). Contingent groups are rebuilt from their
orders' rows.
"""

from __future__ import annotations

import hashlib
import json

from matcher.engine.engine import MatchingEngine
from matcher.engine.extra_state import extra_state, restore_extra_state
from matcher.engine.working import HELD, IN_BOOK, PARKED, RestingOrder

SNAPSHOT_VERSION = 1


def snapshot(engine: MatchingEngine) -> dict[str, object]:
    """The engine's whole state as plain data (JSON-able)."""
    live_gtd = []
    for expire_at, entry, order_id in sorted(engine.gtd_heap):
        o = engine._working(order_id)
        if o is not None and o.expire_at == expire_at:
            live_gtd.append([expire_at, entry, order_id])
    data: dict[str, object] = {
        "version": SNAPSHOT_VERSION,
        "symbol": engine.symbol,
        "seq": engine.seq,
        "last_px": engine.last_px,
        "state": engine.state,
        "maker_fee_cbps": engine.maker_fee_cbps,
        "taker_fee_cbps": engine.taker_fee_cbps,
        "bids": [o.to_row() for o in engine.bids.orders_in_priority()],
        "asks": [o.to_row() for o in engine.asks.orders_in_priority()],
        "buy_stops": [o.to_row() for o in _parked(engine, True)],
        "sell_stops": [o.to_row() for o in _parked(engine, False)],
        "gtd": live_gtd,
    }
    data.update(extra_state(engine.held, engine.reduce_only))
    return data


def _parked(engine: MatchingEngine, buys: bool) -> list[RestingOrder]:
    """A side's parked stops: in trigger order, then trailing stops with no stop yet."""
    listed = engine.parked_in_order(buys)
    waiting = [o for o in engine.trailing if o.is_buy == buys and o.stop_price == 0]
    return listed + waiting


def restore(data: dict[str, object]) -> MatchingEngine:
    """An engine in exactly the state `data` (from `snapshot`) describes."""
    if data.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"unsupported snapshot version {data.get('version')!r}")
    engine = MatchingEngine(
        str(data["symbol"]),
        int(str(data["maker_fee_cbps"])),
        int(str(data["taker_fee_cbps"])),
    )
    engine.seq = int(str(data["seq"]))
    engine.last_px = int(str(data["last_px"]))
    engine.state = str(data["state"])
    every: list[RestingOrder] = []
    for o in _orders(data, "bids", "asks"):
        o.where = IN_BOOK
        engine.orders[o.order_id] = o
        (engine.bids if o.is_buy else engine.asks).add(o)
        every.append(o)
    for o in _orders(data, "buy_stops", "sell_stops"):
        o.where = PARKED
        engine.stops[o.order_id] = o
        if o.trail_amount or o.trail_cbps:
            engine.trailing.append(o)
        if o.stop_price > 0:
            if o.is_buy:
                engine.buy_stops.append((o.stop_price, o.entry_seq, o.order_id))
            else:
                engine.sell_stops.append((-o.stop_price, o.entry_seq, o.order_id))
        every.append(o)
    engine.buy_stops.sort()
    engine.sell_stops.sort()
    engine.trailing.sort(key=lambda o: o.entry_seq)
    for o in _orders(data, "held"):
        o.where = HELD
        engine.held[o.order_id] = o
        every.append(o)
    gtd = data["gtd"]
    assert isinstance(gtd, list)
    engine.gtd_heap = [(int(e[0]), int(e[1]), str(e[2])) for e in gtd]
    restore_extra_state(engine.reduce_only, every, data)
    engine.last_entry = max((o.entry_seq for o in every), default=0)
    return engine


def _orders(data: dict[str, object], *keys: str) -> list[RestingOrder]:
    """The orders of the snapshot's `keys` lists, in their order (absent: none)."""
    orders: list[RestingOrder] = []
    for key in keys:
        rows = data.get(key) or []
        assert isinstance(rows, list)
        orders.extend(RestingOrder.from_row(row) for row in rows)
    return orders


def state_hash(engine: MatchingEngine) -> str:
    """SHA-256 of the canonical snapshot: equal hashes mean equal engine states."""
    text = json.dumps(snapshot(engine), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
