"""A paper order's own fill simulator settings (its account's, carried on NewOrder.sim_*):
slippage, size impact, latency and the partial-fill schedule override the instrument's,
for that order only, and survive a snapshot."""

from __future__ import annotations

from matcher.engine.simulator import SimulatorConfig
from matcher.engine.venues import InstrumentVenues
from shared.domain.commands import Command, ExpireOrders, NewOrder, command_from_dict
from shared.domain.events import Event, OrderFilled

S = 1_000_000_000
MS = 1_000_000


def paper(n: int, ts: int, side: str, qty: int, **sim: int) -> NewOrder:
    return NewOrder(
        f"c{n}", ts, "SIM", f"o{n}", "p", side, "market", "gtc", qty, 0, 0, 0,
        "cancel_newest", "paper", **sim,  # type: ignore[arg-type]
    )  # fmt: skip


def venues() -> InstrumentVenues:
    # A replayed price file: 100.00 throughout, so every figure is worked by hand.
    config = SimulatorConfig(start_price=10_000, slippage_cbps=500, prices=[(0, 10_000)])
    return InstrumentVenues("SIM", simulator=config)


def fills(events: list[Event]) -> list[tuple[str, int, int, int]]:
    return [(e.order_id, e.ts, e.last_qty, e.last_px) for e in events if isinstance(e, OrderFilled)]


def run(v: InstrumentVenues, commands: list[Command]) -> list[Event]:
    out: list[Event] = []
    v.process(commands, out)
    return out


def test_an_orders_own_slippage_and_impact_replace_the_instruments() -> None:
    events = run(
        venues(),
        [
            paper(1, S, "buy", 3),  # the instrument's 5 bps: 100.05
            paper(2, S, "buy", 3, sim_slippage_cbps=2_000),  # 20 bps: 100.20
            paper(3, S, "sell", 3, sim_slippage_cbps=2_000),  # 20 bps below: 99.80
            # 10 bps + 3 lots x 2 bps = 16 bps: 100.16
            paper(4, S, "buy", 3, sim_slippage_cbps=1_000, sim_impact_cbps_per_lot=200),
            paper(5, S, "buy", 3, sim_slippage_cbps=0),  # none at all: 100.00
        ],
    )
    assert fills(events) == [
        ("o1", S, 3, 10_005),
        ("o2", S, 3, 10_020),
        ("o3", S, 3, 9_980),
        ("o4", S, 3, 10_016),
        ("o5", S, 3, 10_000),
    ]


def test_an_orders_own_latency_and_partial_fill_schedule() -> None:
    own = {"sim_latency_ns": 50 * MS, "sim_fill_ratio_pct": 40, "sim_fill_interval_ns": S}
    commands: list[Command] = [paper(1, S, "buy", 10, **own), paper(2, S, "buy", 10)]
    commands += [ExpireOrders(f"t{i}", S + i * 10 * MS, "SIM", False) for i in range(1, 6)]
    commands += [ExpireOrders(f"u{i}", S + i * S + 50 * MS, "SIM", False) for i in (1, 2)]
    events = run(venues(), commands)

    # o2 (the instrument's settings: no latency, all at once) fills at once; o1 not before
    # 50 ms, then 40% of 10 = 4 lots per step, steps a second apart: 4, 4 and the last 2.
    assert fills(events) == [
        ("o2", S, 10, 10_005),
        ("o1", S + 50 * MS, 4, 10_005),
        ("o1", 2 * S + 50 * MS, 4, 10_005),
        ("o1", 3 * S + 50 * MS, 2, 10_005),
    ]


def test_own_settings_survive_a_snapshot_and_old_commands_decode_without_them() -> None:
    own = {"sim_slippage_cbps": 2_000, "sim_fill_ratio_pct": 50, "sim_fill_interval_ns": S}
    first: list[Command] = [paper(1, S, "buy", 4, **own)]
    later: list[Command] = [ExpireOrders("t1", 2 * S, "SIM", False)]
    straight = venues()
    expected = run(straight, first + later)

    before = venues()
    run(before, first)
    restored = InstrumentVenues.restore(before.snapshot())
    assert restored.state_hash() == before.state_hash()
    assert run(restored, later) == expected[len(run(venues(), first)) :]
    assert fills(expected) == [("o1", S, 2, 10_020), ("o1", 2 * S, 2, 10_020)]

    body = paper(9, S, "buy", 1).to_dict()
    for name in NewOrder.FIELDS[NewOrder.FIELDS.index("sim_slippage_cbps") :]:
        del body[name]  # a command journaled before they (and what came after) existed
    assert command_from_dict(body) == paper(9, S, "buy", 1)


def test_the_reference_price_source_changes_at_its_command_and_replays_the_same() -> None:
    from shared.domain.commands import SetReferencePrices
    from shared.domain.events import NothingChanged, ReferencePricesSet

    walk = InstrumentVenues("SIM", simulator=SimulatorConfig(seed=5, start_price=10_000))
    commands: list[Command] = [
        paper(1, S, "buy", 1, sim_slippage_cbps=0),  # anchors the walk at 100.00
        SetReferencePrices("f", 10 * S, "SIM", "file", prices=[[20 * S, 9_000], [30 * S, 9_500]]),
        paper(2, 15 * S, "buy", 1, sim_slippage_cbps=0),  # before the first point
        paper(3, 25 * S, "buy", 1, sim_slippage_cbps=0),  # 90.00
        paper(4, 35 * S, "buy", 1, sim_slippage_cbps=0),  # 95.00
        SetReferencePrices("w", 40 * S, "SIM", "walk", 9, 0, S, 8_000),  # a flat walk at 80
        paper(5, 99 * S, "buy", 1, sim_slippage_cbps=0),
        SetReferencePrices("bad", 99 * S, "SIM", "walk", 9, 1, 0),  # step_ns 0: refused
    ]
    events = run(walk, commands)
    prices = [e.last_px for e in events if isinstance(e, OrderFilled)]
    at_switch = walk.simulator.config.to_dict()

    ref_at_10s = prices[1]  # the walk's price when the file took over, kept until 20 s
    assert prices[2:] == [9_000, 9_500, 8_000] and ref_at_10s > 0
    (file_set, walk_set) = [e for e in events if isinstance(e, ReferencePricesSet)]
    assert (file_set.source, file_set.points, walk_set.start_price) == ("file", 2, 8_000)
    assert [e.reason for e in events if isinstance(e, NothingChanged)] == [
        "INVALID_REFERENCE_PRICES"
    ]
    again = InstrumentVenues("SIM", simulator=SimulatorConfig(seed=5, start_price=10_000))
    journaled = [command_from_dict(c.to_dict()) for c in commands]
    assert run(again, journaled) == events
    assert again.state_hash() == walk.state_hash() and at_switch["step_ticks"] == 0
