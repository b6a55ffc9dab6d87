"""The paper fill simulator: deterministic from its seed, with slippage, latency,
partial-fill schedules, stops and fees, all driven by command timestamps."""

from __future__ import annotations

import statistics
from itertools import pairwise

from matcher.engine.simulator import FillSimulator, SimulatorConfig
from matcher.engine.venues import InstrumentVenues
from shared.domain.commands import CancelOrder, ExpireOrders, NewOrder
from shared.domain.events import Event, OrderCanceled, OrderFilled, OrderTriggered

S = 1_000_000_000  # one second in ns


def paper(order_id: str, ts: int, side: str, qty: int, **kw: object) -> NewOrder:
    return NewOrder(
        f"c-{order_id}",
        ts,
        "SIM",
        order_id,
        "paper-acct",
        side,
        str(kw.get("kind", "market")),
        str(kw.get("tif", "gtc")),
        qty,
        int(kw.get("price", 0)),  # type: ignore[call-overload]
        int(kw.get("stop", 0)),  # type: ignore[call-overload]
        0,
        "cancel_newest",
        "paper",
    )


def venues(**cfg: int) -> InstrumentVenues:
    return InstrumentVenues("SIM", simulator=SimulatorConfig(**cfg))  # type: ignore[arg-type]


def fills_of(events: list[Event]) -> list[tuple[int, int, str]]:
    return [(e.last_qty, e.last_px, e.liquidity) for e in events if isinstance(e, OrderFilled)]


def test_reference_walk_is_seeded_and_gaussian_with_the_configured_step() -> None:
    def walker(seed: int) -> FillSimulator:
        return FillSimulator("SIM", SimulatorConfig(seed=seed, start_price=10_000, step_ticks=2))

    a, b, c = walker(1), walker(1), walker(2)
    path_a = [a.reference_price(t * S) for t in range(2_000)]
    assert path_a == [b.reference_price(t * S) for t in range(2_000)]
    assert path_a != [c.reference_price(t * S) for t in range(2_000)]
    assert path_a[0] == 10_000
    steps = [y - x for x, y in pairwise(path_a)]
    assert 1.5 < statistics.pstdev(steps) < 2.5
    assert len(set(path_a)) > 20


def test_reference_price_does_not_depend_on_which_times_were_looked_at() -> None:
    """A tick that looks at the market (and is not journaled) must not change it."""
    dense = FillSimulator("SIM", SimulatorConfig(seed=3, start_price=500, step_ticks=3))
    sparse = FillSimulator("SIM", SimulatorConfig(seed=3, start_price=500, step_ticks=3))
    every = [dense.reference_price(t * S) for t in range(300)]
    assert [sparse.reference_price(t * S) for t in range(0, 300, 7)] == every[::7]
    restored = FillSimulator.restore("SIM", 0, sparse.snapshot())
    assert restored.reference_price(123 * S) == every[123]
    assert restored.reference_price(5 * S) == every[5]  # earlier times too


def test_replayed_price_file_sets_the_reference() -> None:
    sim = FillSimulator("SIM", SimulatorConfig(prices=[(10, 500), (20, 520)], start_price=1))
    assert [sim.reference_price(t) for t in (5, 10, 15, 20, 99)] == [1, 500, 500, 520, 520]


def test_market_order_fills_at_reference_plus_slippage_and_size_impact() -> None:
    v = venues(start_price=10_000, slippage_cbps=100, impact_cbps_per_lot=10, step_ticks=0)
    out: list[Event] = []
    v.handle(paper("m", S, "buy", 10), out)
    # 1 bp fixed + 0.1 bp per lot * 10 lots = 2 bps of 10,000 ticks = 2 ticks, against the buyer
    assert fills_of(out) == [(10, 10_002, "taker")]
    out = []
    v.handle(paper("m2", S, "sell", 10), out)
    assert fills_of(out) == [(10, 9_998, "taker")]


def test_limit_order_waits_until_the_market_reaches_it() -> None:
    prices = [(0, 100), (2 * S, 98), (4 * S, 95)]
    v = InstrumentVenues("SIM", simulator=SimulatorConfig(prices=prices, start_price=100))
    out: list[Event] = []
    v.handle(paper("l", S, "buy", 5, kind="limit", price=97), out)
    assert fills_of(out) == []
    v.handle(ExpireOrders("t1", 3 * S, "SIM"), out)
    assert fills_of(out) == []
    v.handle(ExpireOrders("t2", 4 * S, "SIM"), out)
    assert fills_of(out) == [(5, 95, "taker")]


def test_latency_and_partial_fill_schedule() -> None:
    v = venues(start_price=100, step_ticks=0, latency_ns=S, fill_ratio_pct=30, fill_interval_ns=S)
    out: list[Event] = []
    v.handle(paper("m", 10 * S, "buy", 10), out)
    assert fills_of(out) == []  # within the latency
    for t in range(11, 16):
        v.handle(ExpireOrders(f"t{t}", t * S, "SIM"), out)
    assert [f[0] for f in fills_of(out)] == [3, 3, 3, 1]
    assert [e.status for e in out if isinstance(e, OrderFilled)][-1] == "filled"


def test_stop_triggers_when_the_reference_reaches_it() -> None:
    prices = [(0, 100), (2 * S, 104)]
    v = InstrumentVenues("SIM", simulator=SimulatorConfig(prices=prices, start_price=100))
    out: list[Event] = []
    v.handle(paper("s", S, "buy", 2, kind="stop", stop=103), out)
    assert not any(isinstance(e, OrderTriggered) for e in out)
    v.handle(ExpireOrders("t", 2 * S, "SIM"), out)
    assert [e.order_id for e in out if isinstance(e, OrderTriggered)] == ["s"]
    assert fills_of(out) == [(2, 104, "taker")]


def test_ioc_takes_one_step_and_fok_is_all_or_nothing() -> None:
    v = venues(start_price=100, step_ticks=0, fill_ratio_pct=50)
    out: list[Event] = []
    v.handle(paper("i", S, "buy", 10, tif="ioc"), out)
    assert fills_of(out) == [(5, 100, "taker")]
    assert isinstance(out[-1], OrderCanceled) and out[-1].canceled_qty == 5
    out = []
    v.handle(paper("f", S, "buy", 10, tif="fok", kind="limit", price=99), out)
    assert fills_of(out) == []
    assert isinstance(out[-1], OrderCanceled) and out[-1].reason == "FOK_NOT_FILLABLE"


def test_fees_follow_liquidity_and_cancel_stops_a_working_order() -> None:
    v = venues(
        start_price=100,
        step_ticks=0,
        fill_ratio_pct=50,
        fill_interval_ns=S,
        maker_fee_cbps=5,
        taker_fee_cbps=30,
    )
    out: list[Event] = []
    v.handle(paper("m", S, "buy", 4), out)
    (fill,) = [e for e in out if isinstance(e, OrderFilled)]
    assert fill.fee == 2 * 100 * 30
    v.handle(CancelOrder("c", S + 1, "SIM", "m", "paper-acct"), out)
    assert isinstance(out[-1], OrderCanceled) and out[-1].canceled_qty == 2
    assert "m" not in v.simulator.orders


def test_paper_and_internal_orders_share_one_gap_free_sequence() -> None:
    v = venues(start_price=100, step_ticks=0)
    out: list[Event] = []
    v.handle(NewOrder("1", S, "SIM", "i1", "live", "buy", "limit", "gtc", 1, 100), out)
    v.handle(paper("p1", S, "buy", 1), out)
    v.handle(NewOrder("2", S, "SIM", "i2", "live2", "sell", "limit", "gtc", 1, 100), out)
    assert [e.seq for e in out] == list(range(1, len(out) + 1))
    assert "p1" not in v.engine.orders and "i1" not in v.simulator.orders
