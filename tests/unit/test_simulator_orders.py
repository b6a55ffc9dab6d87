"""The paper fill simulator takes every type, instruction and class the engine takes, with
the same events: brackets, OCO, trailing stops on the reference price, post-only,
reduce-only, icebergs (accepted, nothing to show), DAY expiry."""

from __future__ import annotations

from typing import Any

from matcher.engine.simulator import SimulatorConfig
from shared.domain.events import OrderTriggered
from tests.support.desk import Desk, accepted, ended, fills, moved, rejected, restated

S = 1_000_000_000


def paper_desk(prices: list[tuple[int, int]], **cfg: int) -> Desk:
    d = Desk(simulator=SimulatorConfig(prices=prices, start_price=prices[0][1], **cfg))
    d.ts = S
    return d


def at(d: Desk, seconds: float) -> list[Any]:
    """Let the paper market move to `seconds` (a clock tick)."""
    return d.expire(int(seconds * S))


def test_a_paper_bracket_protects_what_its_entry_bought_and_its_exits_are_an_oco_pair() -> None:
    d = paper_desk([(0, 100), (3 * S, 112)], fill_ratio_pct=50, fill_interval_ns=S)
    out = d.bracket("e", "buy", 10, take_profit=110, stop_loss=95, kind="market", venue="paper")
    assert accepted(out) == [("e", "new", 10, 0), ("e-tp", "held", 0, 10), ("e-sl", "held", 0, 10)]
    assert fills(out) == [("e", 5, 100)]
    assert restated(out) == [("e-tp", "LEG_RELEASED", 5, 5, 0), ("e-sl", "LEG_RELEASED", 5, 5, 0)]
    out = at(d, 2.5)  # the next fill step, a second later
    assert fills(out) == [("e", 5, 100)]
    assert restated(out) == [("e-tp", "LEG_RELEASED", 10, 0, 0), ("e-sl", "LEG_RELEASED", 10, 0, 0)]
    out = at(d, 3)  # the market goes through the take-profit: it sells at the market
    assert fills(out) == [("e-tp", 5, 112)]
    assert restated(out) == [("e-sl", "OCO_SIBLING_FILLED", 5, 0, 5)]
    out = at(d, 4)
    assert fills(out) == [("e-tp", 5, 112)]
    assert ended(out) == [("e-sl", "OCO_SIBLING_FILLED", 5)]


def test_a_paper_trailing_stop_trails_the_reference_price() -> None:
    d = paper_desk([(0, 100), (2 * S, 110), (3 * S, 107), (4 * S, 105)])
    out = d.order("ts", "sell", 3, kind="trailing_stop", trail_amount=5, venue="paper")
    assert [e.stop_price for e in out if e.KIND == "order_accepted"] == [95]
    assert moved(at(d, 2)) == [("ts", 105, 110)]
    assert moved(at(d, 3)) == []
    out = at(d, 4)
    assert [e.order_id for e in out if isinstance(e, OrderTriggered)] == ["ts"]
    assert fills(out) == [("ts", 3, 105)]


def test_a_paper_post_only_order_never_takes() -> None:
    d = paper_desk([(0, 100), (2 * S, 95)], slippage_cbps=10_000)
    out = d.order("po", "buy", 1, price=100, post_only=True, venue="paper")
    assert rejected(out) == [("po", "POST_ONLY_WOULD_TAKE")]
    d.order("po2", "buy", 2, price=98, post_only=True, venue="paper")
    out = at(d, 2)  # a taker would pay the slipped price; post-only fills at its limit
    assert [(o, q, px) for o, q, px in fills(out)] == [("po2", 2, 98)]
    assert [e.liquidity for e in out if e.KIND == "order_filled"] == ["maker"]


def test_paper_reduce_only_counts_paper_fills_and_gives_way_as_they_move() -> None:
    d = paper_desk([(0, 100)])
    assert rejected(
        d.order("r0", "sell", 1, price=120, reduce_only=True, account="p", venue="paper")
    ) == [("r0", "REDUCE_ONLY_WOULD_INCREASE")]
    d.order("buy", "buy", 5, kind="market", account="p", venue="paper")
    assert accepted(
        d.order("r1", "sell", 5, price=120, reduce_only=True, account="p", venue="paper")
    )
    out = d.order("dump", "sell", 2, kind="market", account="p", venue="paper")
    assert restated(out) == [("r1", "REDUCE_ONLY_TRIMMED", 3, 0, 2)]
    assert d.venues.book.net("p") == 3


def test_paper_oco_cancel_and_day_expiry_end_the_whole_group() -> None:
    d = paper_desk([(0, 100)])
    d.oco("x", "sell", 4, take_profit=110, stop_loss=90, venue="paper")
    out = d.cancel("x-sl", "trader")
    assert ended(out) == [("x-sl", "CANCELED_BY_CLIENT", 4), ("x-tp", "GROUP_CANCELED", 4)]
    d.bracket("e", "buy", 3, take_profit=110, stop_loss=90, price=95, venue="paper", tif="day")
    out = d.expire(d.ts + 1, end_of_day=True)
    assert ended(out) == [
        ("e", "EXPIRED_DAY", 3),
        ("e-tp", "PARENT_CANCELED", 3),
        ("e-sl", "PARENT_CANCELED", 3),
    ]


def test_a_paper_iceberg_is_accepted_and_fills_like_any_limit_order() -> None:
    d = paper_desk([(0, 100)])
    out = d.order("ice", "buy", 6, price=101, display_qty=2, venue="paper")
    assert fills(out) == [("ice", 6, 100)]
    bad = d.order("bad", "buy", 6, price=101, display_qty=7, venue="paper")
    assert rejected(bad) == [("bad", "INVALID_DISPLAY_QUANTITY")]
