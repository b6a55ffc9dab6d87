"""Snapshots of an engine's full state, restore, and the state hash.

A snapshot is a JSON-able dict listing every working order in priority order, so
`restore(snapshot(e))` continues exactly as `e` would: same events, same state hash.
"""

from __future__ import annotations

import hashlib
import json

from matcher.engine.book import RestingOrder
from matcher.engine.engine import MatchingEngine

SNAPSHOT_VERSION = 1


def snapshot(engine: MatchingEngine) -> dict[str, object]:
    """The engine's whole state as plain data (JSON-able)."""
    live_gtd = []
    for expire_at, entry, order_id in sorted(engine.gtd_heap):
        o = engine.orders.get(order_id) or engine.stops.get(order_id)
        if o is not None and o.expire_at == expire_at:
            live_gtd.append([expire_at, entry, order_id])
    return {
        "version": SNAPSHOT_VERSION,
        "symbol": engine.symbol,
        "seq": engine.seq,
        "last_px": engine.last_px,
        "state": engine.state,
        "maker_fee_cbps": engine.maker_fee_cbps,
        "taker_fee_cbps": engine.taker_fee_cbps,
        "bids": [o.to_row() for o in engine.bids.orders_in_priority()],
        "asks": [o.to_row() for o in engine.asks.orders_in_priority()],
        "buy_stops": [engine.stops[k[2]].to_row() for k in engine.buy_stops],
        "sell_stops": [engine.stops[k[2]].to_row() for k in engine.sell_stops],
        "gtd": live_gtd,
    }


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
    for o in _orders(data, "bids", "asks"):
        engine.orders[o.order_id] = o
        (engine.bids if o.is_buy else engine.asks).add(o)
    for o in _orders(data, "buy_stops", "sell_stops"):
        engine.stops[o.order_id] = o
        if o.is_buy:
            engine.buy_stops.append((o.stop_price, o.entry_seq, o.order_id))
        else:
            engine.sell_stops.append((-o.stop_price, o.entry_seq, o.order_id))
    gtd = data["gtd"]
    assert isinstance(gtd, list)
    engine.gtd_heap = [(int(e[0]), int(e[1]), str(e[2])) for e in gtd]
    return engine


def _orders(data: dict[str, object], *keys: str) -> list[RestingOrder]:
    """The orders of the snapshot's `keys` lists, in their order."""
    orders: list[RestingOrder] = []
    for key in keys:
        rows = data[key]
        assert isinstance(rows, list)
        orders.extend(RestingOrder.from_row(row) for row in rows)
    return orders


def state_hash(engine: MatchingEngine) -> str:
    """SHA-256 of the canonical snapshot: equal hashes mean equal engine states."""
    text = json.dumps(snapshot(engine), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
