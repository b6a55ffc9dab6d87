"""Snapshots the matcher stored before an upgrade restore: the books and paper orders go on
as they were (same state hash), and the restored orders trade; a snapshot of today's state
carries all of it (groups, held legs, trailing stops, iceberg slices, reduce-only, positions)."""

from __future__ import annotations

import json

from matcher.engine.simulator import SimulatorConfig
from matcher.engine.venues import InstrumentVenues
from shared.domain.commands import NewOrder
from shared.domain.events import Event, OrderFilled, OrderTriggered
from tests.support.desk import Desk

# Taken by the previous version: a partly filled bid, a parked sell stop, a paper bid.
EARLIER_SNAPSHOT = json.loads(
    '{"engine": {"asks": [], "bids": [["bid", "acct-a", "buy", "limit", "gtc", 10, 99, 0, 0,'
    ' "cancel_newest", 6, 4, 2, 1]], "buy_stops": [], "gtd": [], "last_px": 99,'
    ' "maker_fee_cbps": 0, "sell_stops": [["stop", "acct-c", "sell", "stop", "day", 2, 0, 90,'
    ' 0, "cancel_newest", 2, 0, 1, 5]], "seq": 6, "state": "active", "symbol": "XYZ",'
    ' "taker_fee_cbps": 0, "version": 1}, "simulator": {"anchor_micro": 0, "anchor_step": 0,'
    ' "config": {"fill_interval_ns": 0, "fill_ratio_pct": 100, "impact_cbps_per_lot": 0,'
    ' "latency_ns": 0, "maker_fee_cbps": 0, "prices": [], "seed": 0, "slippage_cbps": 0,'
    ' "start_price": 100, "step_ns": 1000000000, "step_ticks": 1, "taker_fee_cbps": 0},'
    ' "halted": false, "orders": [["paper", "acct-p", "buy", "limit", "gtc", 5, 50, 0, 0,'
    ' "cancel_newest", 5, 0, 1, 6, 4, false]]}}'
)
EARLIER_HASH = "e10a1e1455952180d40dcf6541d6609c900bada3386396794074111364bbd8e4"


def test_a_snapshot_of_the_previous_version_restores_to_the_same_state() -> None:
    venues = InstrumentVenues.restore(EARLIER_SNAPSHOT)
    assert venues.state_hash() == EARLIER_HASH
    assert venues.snapshot() == EARLIER_SNAPSHOT


def test_the_orders_of_a_restored_snapshot_trade() -> None:
    venues = InstrumentVenues.restore(EARLIER_SNAPSHOT)
    out: list[Event] = []
    venues.handle(NewOrder("5", 5, "XYZ", "sell", "acct-d", "sell", "limit", "gtc", 6, 90), out)
    fills = [(e.order_id, e.last_qty, e.leaves_qty) for e in out if isinstance(e, OrderFilled)]
    assert fills[:2] == [("bid", 6, 0), ("sell", 6, 0)]  # the bid's 6 left, at 99
    venues.handle(NewOrder("6", 6, "XYZ", "b2", "acct-e", "buy", "limit", "gtc", 1, 90), out)
    venues.handle(NewOrder("7", 7, "XYZ", "s2", "acct-f", "sell", "limit", "gtc", 1, 90), out)
    assert any(isinstance(e, OrderTriggered) and e.order_id == "stop" for e in out)


def _busy_desk() -> Desk:
    """Venues holding every kind of newer state: held and live legs of a bracket, an OCO,
    a trailing stop with its high-water mark, an iceberg part-way through its slices, a
    decremented order, reduce-only orders and the positions they reduce, paper legs."""
    d = Desk(simulator=SimulatorConfig(prices=[(0, 100), (10**12, 104)], start_price=100))
    d.trade(100)
    d.bracket("b", "buy", 10, take_profit=110, stop_loss=95, price=100, stop_kind="stop")
    d.order("s", "sell", 4, price=100, account="seller")
    d.bracket("h", "sell", 2, take_profit=80, stop_loss=145, price=140)  # legs all held
    d.oco("o", "sell", 3, take_profit=112, stop_loss=5, stop_kind="trailing_stop")
    d.order("ice", "sell", 9, price=108, display_qty=2, account="icy")
    d.order("hit", "buy", 3, price=108, account="taker")
    d.order("ts", "buy", 2, kind="trailing_stop", trail_cbps=20_000, account="tr")
    d.order("big", "sell", 8, price=109, account="me")
    d.order("dec", "buy", 3, price=109, account="me", stp="decrement")
    d.order("ask", "sell", 6, price=101, account="dealer")
    d.order("long", "buy", 6, price=101, account="ro")
    d.order("ro1", "sell", 4, price=120, account="ro", reduce_only=True)
    d.order("ro2", "sell", 2, price=121, account="ro", reduce_only=True)
    d.bracket("p", "buy", 4, take_profit=130, stop_loss=90, price=102, venue="paper")
    d.order("pro", "sell", 1, price=150, account="trader", reduce_only=True, venue="paper")
    return d


def _more(d: Desk) -> None:
    """Trading that touches all of it after a restore."""
    d.order("s2", "sell", 6, price=100, account="seller")
    d.order("dump", "sell", 3, kind="market", account="ro")
    d.trade(107)
    d.order("lift", "buy", 20, price=112, account="lifter")
    d.expire(10**12 + 5)
    d.order("drop", "sell", 30, kind="market", account="dropper")
    d.order("up", "buy", 3, price=140, account="upper")
    d.expire(10**12 + 10, end_of_day=True)


def test_a_snapshot_carries_every_newer_piece_of_state_and_the_restored_venues_go_on_alike() -> (
    None
):
    clean = _busy_desk()
    snap = json.loads(json.dumps(clean.venues.snapshot()))
    assert {"held", "reduce_only"} <= set(snap["engine"]) and "positions" in snap
    restored = Desk()
    restored.venues = InstrumentVenues.restore(snap)
    restored.ts, restored.ids = clean.ts, clean.ids
    assert restored.venues.state_hash() == clean.venues.state_hash()
    clean_log_start, restored_log_start = len(clean.log), len(restored.log)
    ids_now = next(clean.ids)
    clean.ids = iter(range(ids_now, 10**6))  # type: ignore[assignment]
    restored.ids = iter(range(ids_now, 10**6))  # type: ignore[assignment]
    ts_now = clean.ts
    _more(clean)
    restored.ts = ts_now
    _more(restored)
    assert restored.log[restored_log_start:] == clean.log[clean_log_start:]
    assert restored.venues.state_hash() == clean.venues.state_hash()
    assert len(clean.log) - clean_log_start > 30  # the continuation did trade
