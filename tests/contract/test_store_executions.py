"""Contract: executions and positions, on every store adapter."""

from __future__ import annotations

import asyncio

from shared.domain.enums import Liquidity, Side


async def test_an_execution_is_stored_once(store, make_execution):
    execution = make_execution()

    assert await store.executions.append(execution) is True
    assert await store.executions.append(execution) is False

    assert await store.executions.list_by_order("acc-1", "order-1") == [execution]
    assert await store.executions.get("acc-1", execution.execution_id) == execution
    assert await store.executions.get("acc-2", execution.execution_id) is None


async def test_concurrent_appends_of_one_execution_store_it_once(store, make_execution):
    execution = make_execution()

    results = await asyncio.gather(*(store.executions.append(execution) for _ in range(4)))

    assert sorted(results) == [False, False, False, True]


async def test_executions_list_by_order_oldest_first(store, make_execution):
    later = make_execution(executed_at=20)
    earlier = make_execution(executed_at=10)
    other_order = make_execution(order_id="order-2")
    for execution in (later, earlier, other_order):
        await store.executions.append(execution)

    assert await store.executions.list_by_order("acc-1", "order-1") == [earlier, later]


async def test_account_executions_page_newest_first_with_filters(store, make_execution):
    rows = [
        make_execution(executed_at=t, symbol=s)
        for t, s in ((10, "AAPL"), (20, "MSFT"), (30, "AAPL"), (40, "AAPL"), (50, "MSFT"))
    ]
    rows.append(make_execution(executed_at=60, account_id="acc-2"))
    for execution in rows:
        await store.executions.append(execution)

    first = await store.executions.list_by_account("acc-1", limit=2)
    second = await store.executions.list_by_account("acc-1", limit=2, cursor=first.next_cursor)
    third = await store.executions.list_by_account("acc-1", limit=2, cursor=second.next_cursor)
    aapl = await store.executions.list_by_account("acc-1", symbol="AAPL", since=20, until=40)

    times = [e.executed_at for page in (first, second, third) for e in page.items]
    assert times == [50, 40, 30, 20, 10] and third.next_cursor is None
    assert [e.executed_at for e in aapl.items] == [30]


async def test_the_trade_tape_has_one_row_per_match_and_no_paper_fills(store, make_execution):
    maker = make_execution(trade_id="T1", liquidity=Liquidity.MAKER, executed_at=5, side=Side.SELL)
    taker = make_execution(
        trade_id="T1", liquidity=Liquidity.TAKER, executed_at=5, account_id="acc-2"
    )
    simulated = make_execution(trade_id="", liquidity=Liquidity.TAKER, executed_at=9)
    for execution in (taker, maker, simulated):
        await store.executions.append(execution)

    trades = await store.executions.list_trades("AAPL", limit=10)

    # A simulated (paper) fill has no counterparty: it is nobody's trade on the tape.
    assert trades == [maker]
    assert await store.executions.list_trades("AAPL", limit=1) == [maker]


async def test_fills_move_the_position_and_count_once(store, make_execution):
    buy = make_execution(side=Side.BUY, quantity=10, price=100, fee=2, executed_at=1)
    sell = make_execution(side=Side.SELL, quantity=4, price=110, fee=1, executed_at=2)

    assert await store.positions.apply_fill(buy) is True
    assert await store.positions.apply_fill(sell) is True
    assert await store.positions.apply_fill(buy) is False

    position = await store.positions.get("acc-1", "AAPL")
    assert position is not None
    assert (position.net_quantity, position.bought_quantity, position.sold_quantity) == (6, 10, 4)
    assert (position.bought_notional, position.sold_notional, position.fees) == (1000, 440, 3)
    assert position.updated_at == 2


async def test_a_batch_of_fills_stores_each_execution_and_moves_positions_once(
    store, make_execution
):
    first = make_execution(side=Side.BUY, quantity=10, price=100, fee=2, executed_at=1)
    second = make_execution(side=Side.SELL, quantity=4, price=110, fee=1, executed_at=2)
    other = make_execution(account_id="acc-2", symbol="MSFT", quantity=3, executed_at=3)
    assert await store.executions.append_all([first]) == [True]
    assert await store.positions.apply_fills([first]) == [True]

    # A redelivered batch that also carries new fills: only the new ones count.
    fills = [first, second, other]
    assert await store.executions.append_all(fills) == [False, True, True]
    assert await store.positions.apply_fills(fills) == [False, True, True]
    assert await store.positions.apply_fills(fills) == [False, False, False]

    assert [e.execution_id for e in await store.executions.list_by_order("acc-1", "order-1")] == [
        first.execution_id,
        second.execution_id,
    ]
    mine = await store.positions.get("acc-1", "AAPL")
    theirs = await store.positions.get("acc-2", "MSFT")
    assert mine is not None and (mine.net_quantity, mine.fees) == (6, 3)
    assert theirs is not None and theirs.net_quantity == 3


async def test_concurrent_redeliveries_of_a_fill_count_once(store, make_execution):
    fill = make_execution(quantity=7)

    results = await asyncio.gather(*(store.positions.apply_fill(fill) for _ in range(4)))

    assert sorted(results) == [False, False, False, True]
    position = await store.positions.get("acc-1", "AAPL")
    assert position is not None and position.net_quantity == 7


async def test_positions_list_per_account_by_symbol(store, make_execution):
    await store.positions.apply_fill(make_execution(symbol="MSFT"))
    await store.positions.apply_fill(make_execution(symbol="AAPL"))
    await store.positions.apply_fill(make_execution(symbol="AAPL", account_id="acc-2"))

    positions = await store.positions.list_positions("acc-1")

    assert [p.symbol for p in positions] == ["AAPL", "MSFT"]
    assert await store.positions.get("acc-3", "AAPL") is None


async def test_trades_between_come_oldest_first_one_row_per_trade_and_resume(store, make_execution):
    rows = []
    for n, ts in enumerate((10, 20, 20, 30, 40)):
        trade = f"T{n}"
        rows.append(make_execution(trade_id=trade, liquidity=Liquidity.MAKER, executed_at=ts))
        rows.append(
            make_execution(
                trade_id=trade, liquidity=Liquidity.TAKER, executed_at=ts, account_id="acc-2"
            )
        )
    rows.append(make_execution(trade_id="", liquidity=Liquidity.TAKER, executed_at=25))  # paper
    rows.append(make_execution(trade_id="X", liquidity=Liquidity.MAKER, symbol="MSFT"))
    for execution in rows:
        await store.executions.append(execution)
    makers = [r for r in rows[:10] if r.liquidity is Liquidity.MAKER]

    first = await store.executions.list_trades_between("AAPL", since=20, until=40, limit=2)
    last = first[-1]
    rest = await store.executions.list_trades_between(
        "AAPL", since=20, until=40, after=(last.executed_at, last.execution_id)
    )
    everything = await store.executions.list_trades_between("AAPL")

    in_window = sorted(
        (m for m in makers if 20 <= m.executed_at < 40),
        key=lambda e: (e.executed_at, e.execution_id),
    )
    assert first + rest == in_window and len(first) == 2
    assert [e.executed_at for e in everything] == [10, 20, 20, 30, 40]
