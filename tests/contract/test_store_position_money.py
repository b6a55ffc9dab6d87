"""Contract: positions keep their cost basis, realized P&L, day and settlement cash the same
way on every store adapter (figures in ticks x lots; see tests/unit/test_position_money.py
for them in dollars)."""

from __future__ import annotations

import asyncio

from shared.domain.enums import Side
from shared.domain.positions import Fill, Position, after_fill
from shared.ports.store_codec import fill_of

DAY = 19_849  # 2024-05-06, a Monday
T = DAY * 86_400 * 10**9 + 50_000 * 10**9


def expected(*fills: Fill) -> Position:
    position = Position("acc-1", "AAPL")
    for f in fills:
        position = after_fill(position, f)
    return position


async def test_a_flip_keeps_average_cost_and_realized_pnl_exactly(store, make_execution):
    fills = [
        make_execution(side=Side.BUY, quantity=10, price=10_000, fee=50, executed_at=T),
        make_execution(side=Side.BUY, quantity=5, price=10_300, fee=25, executed_at=T + 1),
        make_execution(side=Side.SELL, quantity=6, price=10_400, fee=30, executed_at=T + 2),
        make_execution(side=Side.SELL, quantity=12, price=9_850, fee=60, executed_at=T + 3),
    ]
    # Two batches, the second one redelivering the first's last fill.
    assert await store.positions.apply_fills(fills[:2]) == [True, True]
    assert await store.positions.apply_fills(fills[1:]) == [False, True, True]

    position = await store.positions.get("acc-1", "AAPL")

    assert position == expected(*(fill_of(e) for e in fills))
    assert (position.net_quantity, position.cost, position.realized) == (-3, -29_550, -450)
    assert (position.bought_quantity, position.sold_quantity, position.fees) == (15, 18, 165)


async def test_unsettled_cash_is_kept_by_day_and_settled_by_hand_once(store, make_execution):
    sale = make_execution(
        side=Side.SELL, quantity=2, price=10_000, fee=5, executed_at=T, settle_day=DAY + 1
    )
    buy = make_execution(
        side=Side.BUY, quantity=1, price=9_000, fee=0, executed_at=T + 1, settle_day=DAY + 1
    )
    await store.executions.append_all([sale, buy])
    await store.positions.apply_fills([sale, buy])
    before = await store.positions.get("acc-1", "AAPL")
    assert before is not None and before.unsettled == ((DAY + 1, 20_000 - 9_000, 5),)

    results = await asyncio.gather(
        store.positions.settle(sale, 77), store.positions.settle(sale, 78)
    )

    assert sorted(results) == [False, True]
    after = await store.positions.get("acc-1", "AAPL")
    assert after is not None and after.unsettled == ((DAY + 1, -9_000, 0),)
    assert (after.net_quantity, after.cost) == (before.net_quantity, before.cost)
    stored = await store.executions.get("acc-1", sale.execution_id)
    assert stored is not None and stored.settled_at in (77, 78)
    assert stored.settle_day == DAY + 1
    assert await store.positions.settle(sale, 99) is False


async def test_both_sides_of_a_trade_are_found_by_its_trade_id(store, make_execution):
    maker = make_execution(
        execution_id="AAPL-E9", trade_id="AAPL-T9", account_id="acc-1", side=Side.SELL
    )
    taker = make_execution(
        execution_id="AAPL-E10", trade_id="AAPL-T9", account_id="acc-2", side=Side.BUY
    )
    paper = make_execution(execution_id="AAPL-E11", trade_id="")
    await store.executions.append_all([maker, taker, paper])

    found = await store.executions.list_by_trade("AAPL-T9")

    assert sorted(e.account_id for e in found) == ["acc-1", "acc-2"]
    assert await store.executions.list_by_trade("") == []
    assert await store.executions.list_by_trade("nonsense") == []
    assert await store.executions.list_by_trade("AAPL-T10") == []
