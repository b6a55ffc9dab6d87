"""Throughput of the SQLite store: `python -m tools.bench_store [--orders N] [--path FILE]`.

Every figure is one repository call per item (no batch APIs), on a file database in WAL
mode (synchronous=NORMAL, the embedded default). "one by one" awaits each call before the
next: one commit per call. "concurrent" runs the calls from many coroutines, as an API
under load does; writes issued in the same event-loop turn then share one commit (group
commit), and every call still returns only after its commit.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from shared.adapters.sqlite.store import open_sqlite_store
from shared.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from shared.domain.order import Order
from shared.ports.store import Store
from shared.ports.store_executions import Execution
from shared.ports.store_journal import JournalEntry

T = TypeVar("T")


def _orders(n: int) -> list[Order]:
    return [
        Order(
            order_id=uuid.uuid4().hex,
            client_order_id=f"bench-{i}",
            account_id=f"acc-{i % 10}",
            symbol="AAPL",
            side=Side.BUY if i % 2 else Side.SELL,
            type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            quantity=100,
            limit_price=15_000 + i % 50,
            stop_price=None,
            created_at=1_700_000_000_000_000_000 + i,
        )
        for i in range(n)
    ]


def _executions(orders: Sequence[Order]) -> list[Execution]:
    return [
        Execution(
            f"AAPL-E{i}",
            order.order_id,
            order.account_id,
            order.symbol,
            order.side,
            10,
            15_000,
            Liquidity.MAKER,
            3,
            f"AAPL-T{i}",
            order.created_at,
        )
        for i, order in enumerate(orders)
    ]


def _journal(n: int, batch: int) -> list[list[JournalEntry]]:
    entries = [
        JournalEntry(
            "AAPL",
            f"cmd-{seq}",
            seq,
            seq,
            {"kind": "new_order", "command_id": f"cmd-{seq}", "ts": seq, "symbol": "AAPL"},
            [{"kind": "order_accepted", "symbol": "AAPL", "seq": seq, "ts": seq}],
        )
        for seq in range(1, n + 1)
    ]
    return [entries[i : i + batch] for i in range(0, n, batch)]


async def _rate(
    label: str, items: Sequence[T], op: Callable[[T], Awaitable[object]], concurrency: int
) -> None:
    """Run `op` on every item from `concurrency` coroutines and print the rate."""
    pending = iter(items)

    async def worker() -> None:
        for item in pending:
            await op(item)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    rate = len(items) / (time.perf_counter() - start)
    print(f"{label:<46} x{concurrency:<4} {rate:>10,.0f} /s  ({len(items):,} items)")


async def bench(store: Store, n: int, concurrency: int) -> None:
    orders = _orders(n)
    executions = _executions(orders)
    half = n // 2

    async def update(order: Order) -> None:
        order.status = OrderStatus.NEW
        await store.orders.update(order, expected_version=order.version)

    async def get(order: Order) -> None:
        await store.orders.get(order.account_id, order.order_id)

    async def list_page(account: int) -> None:
        await store.orders.list_orders(f"acc-{account % 10}", limit=100)

    # One writer awaiting each call: a commit per call.
    await _rate("order inserts (create), one by one", orders[:half], store.orders.create, 1)
    await _rate("conditional updates (update), one by one", orders[:half], update, 1)
    # Concurrent callers (an API under load): group commit shares the commits.
    await _rate(
        "order inserts (create), concurrent", orders[half:], store.orders.create, concurrency
    )
    await _rate("conditional updates (update), concurrent", orders[half:], update, concurrency)
    await _rate("order reads (get)", orders, get, concurrency)
    await _rate("order list pages of 100", range(1_000), list_page, concurrency)
    await _rate("execution appends, concurrent", executions, store.executions.append, concurrency)
    await _rate("position fills, concurrent", executions, store.positions.apply_fill, concurrency)
    batches = _journal(n, 100)
    entries = sum(len(batch) for batch in batches)
    start = time.perf_counter()
    for batch in batches:  # one matcher per instrument appends its batches in order
        await store.journal.append(batch)
    rate = entries / (time.perf_counter() - start)
    print(f"{'journal entries (batches of 100), in order':<46} x1    {rate:>10,.0f} /s")


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--path", type=Path, default=None, help="database file (default: temp)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--synchronous", choices=["NORMAL", "FULL"], default="NORMAL")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.path or Path(tmp) / "bench.sqlite3"
        print(f"SQLite store at {path} (WAL, synchronous={args.synchronous})")
        store = await open_sqlite_store(path, args.synchronous)
        try:
            await bench(store, args.orders, args.concurrency)
        finally:
            await store.close()


if __name__ == "__main__":
    asyncio.run(main())
