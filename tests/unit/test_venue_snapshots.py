"""Snapshots the matcher stored before an upgrade restore: the books and paper orders go on
as they were (same state hash), and the restored orders trade."""

from __future__ import annotations

import json

from matcher.engine.venues import InstrumentVenues
from shared.domain.commands import NewOrder
from shared.domain.events import Event, OrderFilled, OrderTriggered

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
