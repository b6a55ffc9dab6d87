"""Shadow mode in the matcher: an internal order marked `shadow` also runs, unseen by the
book, on a fill simulator that shares the paper market's reference price; its fills come
out as ShadowFilled / ShadowClosed with the instrument's next sequence numbers, and a replay
of the journal (or a restore from a snapshot) gives them again."""

from __future__ import annotations

from matcher.engine.simulator import SimulatorConfig
from matcher.engine.venues import InstrumentVenues
from shared.domain.commands import CancelOrder, Command, ExpireOrders, NewOrder, command_from_dict
from shared.domain.events import (
    Event,
    OrderFilled,
    ShadowClosed,
    ShadowFilled,
    event_from_dict,
)

S = 1_000_000_000


def order(
    n: int, ts: int, account: str, side: str, kind: str, qty: int, price: int = 0, **kw: object
) -> NewOrder:
    tif = "gtc" if kind == "limit" else "ioc"
    return NewOrder(
        f"c{n}", ts, "SIM", f"o{n}", account, side, kind, tif, qty, price, 0, 0,
        "cancel_newest", str(kw.get("venue", "internal")), shadow=bool(kw.get("shadow", False)),
    )  # fmt: skip


def venues() -> InstrumentVenues:
    # the paper market: 100.00 from a price file, 10 bps of slippage, 50% per fill step
    config = SimulatorConfig(
        start_price=10_000, slippage_cbps=1_000, fill_ratio_pct=50, prices=[(0, 10_000)]
    )
    return InstrumentVenues("SIM", simulator=config)


def run(v: InstrumentVenues, commands: list[Command]) -> list[Event]:
    out: list[Event] = []
    v.process(commands, out)
    return out


COMMANDS: list[Command] = [
    order(1, S, "maker", "sell", "limit", 10, 10_050),  # the book: 10 at 100.50
    order(2, 2 * S, "taker", "buy", "market", 4, shadow=True),  # real: 4 at 100.50
    order(3, 3 * S, "taker", "buy", "limit", 6, 9_900, shadow=True),  # rests; copy: nothing
    order(4, 4 * S, "maker", "buy", "limit", 1, 9_000),  # a command: time moves on
    CancelOrder("x3", 5 * S, "SIM", "o3", "taker"),
    order(5, 6 * S, "taker", "buy", "market", 2, venue="paper", shadow=True),  # paper: no copy
]


def test_a_shadowed_order_also_fills_on_the_simulator_unseen_by_the_book() -> None:
    v = venues()
    events = run(v, COMMANDS)

    real = [(e.order_id, e.last_qty, e.last_px) for e in events if isinstance(e, OrderFilled)]
    shadow = [
        (e.order_id, e.ts, e.last_qty, e.last_px, e.cum_qty)
        for e in events
        if isinstance(e, ShadowFilled)
    ]
    closed = [(e.order_id, e.canceled_qty, e.reason) for e in events if isinstance(e, ShadowClosed)]
    # The real market order took 4 at 100.50 from the book; its copy filled at the
    # reference 100.00 + 10 bps = 100.10, 2 lots (50%) at once, and its IOC rest canceled.
    assert real[:2] == [("o1", 4, 10_050), ("o2", 4, 10_050)]
    assert shadow == [("o2", 2 * S, 2, 10_010, 2)]
    # The limit copy at 99.00 never fills (100.10 > 99.00 and 100.00 > 99.00); canceled with
    # its order. The paper order has no copy: it is on the simulator already.
    assert closed == [("o2", 2, "IOC_REMAINDER"), ("o3", 6, "CANCELED_BY_CLIENT")]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert v.engine.bids.prices == [9_000]  # the copies are not in the book
    assert v.simulator.orders == {}  # nor among the paper orders


def test_shadow_events_replay_and_survive_a_snapshot() -> None:
    events = run(venues(), COMMANDS)
    journaled = [command_from_dict(c.to_dict()) for c in COMMANDS]
    assert run(venues(), journaled) == events
    assert [event_from_dict(e.to_dict()) for e in events] == events

    # A copy still working (a limit at 100.00 that fills in steps) across a snapshot.
    working: list[Command] = [order(7, S, "t", "buy", "limit", 4, 10_020, shadow=True)]
    later: list[Command] = [ExpireOrders(f"t{i}", S + i * S, "SIM", False) for i in (1, 2)]
    straight = venues()
    expected = run(straight, working + later)
    before = venues()
    first = run(before, working)
    restored = InstrumentVenues.restore(before.snapshot())
    assert restored.state_hash() == before.state_hash()
    assert first + run(restored, later) == expected
    fills = [(e.ts, e.last_qty, e.last_px) for e in expected if isinstance(e, ShadowFilled)]
    assert fills == [(S, 2, 10_010), (2 * S, 2, 10_010)]
