"""The SQLite adapter's own promises: durable across restarts, chosen by default."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import orjson
import pytest

from shared.adapters.factory import store_from_settings
from shared.adapters.sqlite.database import SqliteDatabase
from shared.adapters.sqlite.schema import OPEN_ORDERS, PENDING_ORDERS, status_in
from shared.adapters.sqlite.store import open_sqlite_store
from shared.config.settings import Settings
from shared.domain.enums import OrderStatus, Side
from shared.domain.order import OPEN_STATUSES
from shared.ports.store_codec import order_to_doc
from shared.ports.store_errors import (
    DuplicateClientOrderId,
    DuplicateOrderId,
    StoreUnavailable,
    VersionConflict,
)
from shared.ports.store_journal import JournalEntry
from shared.ports.store_risk import LedgerChange, RiskLedger


async def test_everything_survives_a_restart(tmp_path: Path, make_order, make_execution):
    path = tmp_path / "oms.sqlite3"
    order = make_order()
    entry = JournalEntry("AAPL", "c1", 1, 1, {"kind": "x"}, [{"seq": 1}])
    store = await open_sqlite_store(path)
    await store.orders.create(order)
    await store.orders.update(order, expected_version=0)
    await store.journal.append([entry])
    await store.positions.apply_fill(make_execution())
    await store.close()

    reopened = await open_sqlite_store(path)

    assert await reopened.orders.get("acc-1", order.order_id) == order
    assert [e async for e in reopened.journal.read_from("AAPL", 1)] == [entry]
    assert await reopened.journal.append([entry]) == [entry]
    position = await reopened.positions.get("acc-1", "AAPL")
    assert position is not None and position.net_quantity == 10
    await reopened.close()


async def test_the_database_runs_in_wal_mode(tmp_path: Path):
    store = await open_sqlite_store(tmp_path / "oms.sqlite3")
    conn = store.connection.conn  # type: ignore[attr-defined]

    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    await store.close()


async def test_settings_without_a_mongodb_uri_pick_sqlite_in_the_data_dir(tmp_path: Path):
    store = await store_from_settings(Settings(OMS_DATA_DIR=tmp_path, MONGODB_URI=None))
    await store.ping()
    await store.close()

    assert (tmp_path / "oms.sqlite3").exists()


async def test_settings_with_a_mongodb_uri_pick_mongodb(tmp_path: Path, secantus_uri: str):
    settings = Settings(OMS_DATA_DIR=tmp_path, MONGODB_URI=secantus_uri, MONGODB_DATABASE="oms_f")
    store = await store_from_settings(settings)
    await store.ping()
    await store.instruments.list_instruments()
    await store.connection.client.drop_database("oms_f")  # type: ignore[attr-defined]
    await store.close()

    assert not (tmp_path / "oms.sqlite3").exists()


async def test_concurrent_writes_are_committed_when_acknowledged(tmp_path: Path, make_order):
    path = tmp_path / "oms.sqlite3"
    store = await open_sqlite_store(path)
    orders = [make_order() for _ in range(30)]
    duplicate = make_order(client_order_id=orders[0].client_order_id)

    results = await asyncio.gather(
        *(store.orders.create(order) for order in [*orders, duplicate]), return_exceptions=True
    )

    # Another connection (another process) sees only committed rows: all 30, and the
    # duplicate's failure rolled back nothing of the others sharing its commit.
    assert isinstance(results[-1], DuplicateClientOrderId)
    with closing(sqlite3.connect(path)) as other:
        assert other.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 30
    await store.close()


async def test_a_database_of_the_previous_version_gains_the_outbox_columns(
    tmp_path: Path, make_order
):
    path = tmp_path / "old.sqlite3"
    store = await open_sqlite_store(path)
    order = make_order(created_at=10)
    await store.orders.create(order)
    await store.journal.mark_published("AAPL", 4)
    await store.close()
    with closing(sqlite3.connect(path)) as conn:  # what the previous version created
        conn.execute("DROP INDEX orders_pending_updated")
        conn.execute("ALTER TABLE orders DROP COLUMN updated_at")
        conn.execute("ALTER TABLE journal_marks DROP COLUMN projected_seq")
        conn.commit()

    reopened = await open_sqlite_store(path)

    assert [o.order_id for o in await reopened.orders.list_pending(10)] == [order.order_id]
    assert await reopened.journal.projected_seq("AAPL") == 0
    await reopened.journal.mark_projected("AAPL", 3)
    assert await reopened.journal.published_seq("AAPL") == 4
    assert await reopened.journal.projected_seq("AAPL") == 3
    plan = reopened.connection.conn.execute(  # type: ignore[attr-defined]
        f"EXPLAIN QUERY PLAN SELECT doc FROM orders WHERE {PENDING_ORDERS} AND updated_at <= 5"
    ).fetchall()
    assert "orders_pending_updated" in str(plan)
    await reopened.close()


def _as_before_the_exposure_table(conn: sqlite3.Connection) -> None:
    """Turn a database into what the versions before the exposure table made."""
    for name in ("insert", "delete", "update", "update_leave", "update_join"):
        conn.execute(f"DROP TRIGGER order_exposure_{name}")
    conn.execute("DROP TABLE order_exposure")
    conn.execute(
        "CREATE INDEX orders_open"
        " ON orders (account_id, symbol, order_price, leaves_quantity, order_id, status)"
        f" WHERE {OPEN_ORDERS}"
    )


def _exposure(rows):
    return sorted((r.symbol, r.price or 0, r.open_orders, r.leaves_qty) for r in rows)


async def test_a_database_without_the_exposure_columns_gains_them_filled_in(
    tmp_path: Path, make_order
):
    path = tmp_path / "old.sqlite3"
    store = await open_sqlite_store(path)
    resting = make_order(quantity=10, limit_price=150)
    await store.orders.create(resting)
    await store.orders.create(make_order(quantity=4, limit_price=None, stop_price=140))
    await store.close()
    with closing(sqlite3.connect(path)) as conn:  # what the previous version created
        _as_before_the_exposure_table(conn)
        conn.execute("DROP INDEX orders_open")
        conn.execute("ALTER TABLE orders DROP COLUMN order_price")
        conn.execute("ALTER TABLE orders DROP COLUMN leaves_quantity")
        conn.commit()

    reopened = await open_sqlite_store(path)

    rows = await reopened.orders.open_exposure("acc-1")
    assert sorted((r.price, r.open_orders, r.leaves_qty) for r in rows) == [
        (140, 1, 4),
        (150, 1, 10),
    ]
    resting.status, resting.cum_qty, resting.leaves_qty = OrderStatus.FILLED, 10, 0
    await reopened.orders.update(resting, resting.version)
    rows = await reopened.orders.open_exposure("acc-1")
    assert [(r.price, r.open_orders, r.leaves_qty) for r in rows] == [(140, 1, 4)]
    await reopened.close()


async def test_a_database_of_the_previous_version_gets_its_exposure_from_its_orders(
    tmp_path: Path, make_order
):
    path = tmp_path / "old.sqlite3"
    store = await open_sqlite_store(path)
    big = 2**62 + 1
    orders = [
        make_order(quantity=10, limit_price=150),
        make_order(quantity=9, limit_price=150, status=OrderStatus.PARTIALLY_FILLED, leaves_qty=5),
        make_order(quantity=3, limit_price=None),
        make_order(
            quantity=8, symbol="MSFT", limit_price=150, status=OrderStatus.FILLED, leaves_qty=0
        ),
        make_order(quantity=big, symbol="MSFT", limit_price=7),
        make_order(quantity=big, symbol="MSFT", limit_price=7),
        make_order(quantity=6, account_id="acc-2", limit_price=150),
    ]
    for order in orders:
        await store.orders.create(order)
    await store.close()
    with closing(sqlite3.connect(path)) as conn:
        _as_before_the_exposure_table(conn)
        conn.commit()

    reopened = await open_sqlite_store(path)

    assert _exposure(await reopened.orders.open_exposure("acc-1")) == [
        ("AAPL", 0, 1, 3),
        ("AAPL", 150, 2, 15),
        ("MSFT", 7, 2, 2 * big),
    ]
    assert _exposure(await reopened.orders.open_exposure("acc-2")) == [("AAPL", 150, 1, 6)]
    first = orders[0]
    first.status, first.leaves_qty = OrderStatus.CANCELED, 0
    await reopened.orders.update(first, first.version)
    assert _exposure(await reopened.orders.open_exposure("acc-1"))[1] == ("AAPL", 150, 1, 5)
    indexes = reopened.connection.conn.execute(  # type: ignore[attr-defined]
        "SELECT name FROM sqlite_master WHERE type = 'index'"
    ).fetchall()
    assert ("orders_open",) not in indexes  # the write cost it added is gone
    await reopened.close()


async def test_an_order_row_deleted_by_hand_leaves_the_exposure(tmp_path: Path, make_order):
    store = await open_sqlite_store(tmp_path / "oms.sqlite3")
    kept, deleted = make_order(quantity=2), make_order(quantity=5)
    await store.orders.create(kept)
    await store.orders.create(deleted)

    conn = store.connection.conn  # type: ignore[attr-defined]
    conn.execute("DELETE FROM orders WHERE order_id = ?", (deleted.order_id,))

    assert _exposure(await store.orders.open_exposure("acc-1")) == [("AAPL", 15_025, 1, 2)]
    await store.close()


async def test_a_cancelled_writer_leaves_the_others_of_its_commit_undisturbed(
    tmp_path: Path, make_order
):
    path = tmp_path / "oms.sqlite3"
    store = await open_sqlite_store(path)
    orders = [make_order() for _ in range(20)]
    tasks = [asyncio.create_task(store.orders.create(order)) for order in orders]
    await asyncio.sleep(0)  # every write has run and waits for the group's commit
    for task in tasks[::2]:
        task.cancel()

    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert all(isinstance(r, asyncio.CancelledError) for r in results[::2])
    assert results[1::2] == [None] * 10
    with closing(sqlite3.connect(path)) as other:
        stored = {row[0] for row in other.execute("SELECT order_id FROM orders")}
    assert {order.order_id for order in orders[1::2]} <= stored
    await store.close()


async def test_a_full_disk_stores_exactly_the_orders_it_acknowledged(tmp_path: Path, make_order):
    path = tmp_path / "oms.sqlite3"
    store = await open_sqlite_store(path)
    conn = store.connection.conn  # type: ignore[attr-defined]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 3}")  # room for a few orders only
    orders = [make_order(quantity=i + 1) for i in range(200)]

    results = await asyncio.gather(
        *(store.orders.create(order) for order in orders), return_exceptions=True
    )

    acknowledged = {order.order_id for order, r in zip(orders, results, strict=True) if r is None}
    assert acknowledged and len(acknowledged) < len(orders)
    assert any(isinstance(r, StoreUnavailable) for r in results)
    with closing(sqlite3.connect(path)) as other:
        stored = {row[0] for row in other.execute("SELECT order_id FROM orders")}
    assert stored == acknowledged  # nothing lost, nothing stored behind a failure
    [row] = await store.orders.open_exposure("acc-1")
    assert row.open_orders == len(stored)
    await store.close()


async def test_the_write_ahead_log_stays_bounded_under_continuous_writes(
    tmp_path: Path, make_order
):
    path = tmp_path / "oms.sqlite3"
    store = await open_sqlite_store(path)
    store.connection.bound_wal(200)  # type: ignore[attr-defined]
    orders = [make_order() for _ in range(3_000)]

    async def writer(mine):
        for order in mine:
            await store.orders.create(order)

    await asyncio.gather(*(writer(orders[i::32]) for i in range(32)))

    # Unchecked, the log would hold every page of every commit (tens of MB here).
    assert (tmp_path / "oms.sqlite3-wal").stat().st_size < 8 * 1024 * 1024
    await store.close()
    with closing(sqlite3.connect(path)) as other:
        assert other.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 3_000


def hold_commits(db: SqliteDatabase) -> threading.Event:
    """A slow disk: every COMMIT waits on the committer thread until the event is set."""
    disk = threading.Event()
    commit = db._run_commit

    def slow_commit() -> BaseException | None:
        disk.wait(10)
        return commit()

    db._run_commit = slow_commit  # type: ignore[method-assign]
    return disk


async def test_a_slow_commit_blocks_neither_reads_nor_the_writers_after_it(
    tmp_path: Path, make_order
):
    """The commit runs on its own thread: while it is held (a slow disk), the event loop
    reads committed data, nothing is acknowledged early, and writes arriving meanwhile
    are committed by the next group."""
    store = await open_sqlite_store(tmp_path / "oms.sqlite3")
    db = store.connection
    assert isinstance(db, SqliteDatabase)
    first, second = make_order(), make_order()
    disk = hold_commits(db)
    placing = asyncio.create_task(store.orders.create(first))
    await asyncio.sleep(0.05)  # its group is committing, held on the thread
    assert await store.orders.get(first.account_id, first.order_id) is None  # not yet
    queued = asyncio.create_task(store.orders.create(second))
    await asyncio.sleep(0.05)
    assert not placing.done() and not queued.done()  # neither acknowledged before its commit

    disk.set()
    await asyncio.wait_for(asyncio.gather(placing, queued), 10)
    for order in (first, second):
        assert await store.orders.get(order.account_id, order.order_id) == order
    await store.close()
    reopened = await open_sqlite_store(tmp_path / "oms.sqlite3")
    assert await reopened.orders.get(second.account_id, second.order_id) == second
    await reopened.close()


async def test_a_commit_that_crashes_its_thread_fails_its_writers_and_the_next_commits(
    tmp_path: Path, make_order
):
    """Whatever goes wrong on the committer thread reaches the writers of the group as
    StoreUnavailable (none waits forever), nothing of the group is stored, and the store
    goes on committing the next writes."""
    store = await open_sqlite_store(tmp_path / "oms.sqlite3")
    db = store.connection
    assert isinstance(db, SqliteDatabase)
    commit = db._run_commit
    lost, kept = make_order(), make_order()

    def crashing_commit() -> BaseException | None:
        db._run_commit = commit  # type: ignore[method-assign]
        raise MemoryError("out of memory on the committer thread")

    db._run_commit = crashing_commit  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable, match="out of memory"):
        await asyncio.wait_for(store.orders.create(lost), 10)
    await asyncio.wait_for(store.orders.create(kept), 10)
    assert await store.orders.get(lost.account_id, lost.order_id) is None
    assert await store.orders.get(kept.account_id, kept.order_id) == kept
    await store.close()


async def test_a_claim_and_its_order_are_stored_together_or_not_at_all(tmp_path: Path, make_order):
    store = await open_sqlite_store(tmp_path / "oms.sqlite3")
    try:
        first = make_order()
        await store.orders.create(first)
        same_id = make_order(order_id=first.order_id, client_order_id="second")

        with pytest.raises(DuplicateOrderId):
            await store.orders.create(same_id, "client-order-id:second")

        assert await store.idempotency.get("acc-1", "client-order-id:second") is None
    finally:
        await store.close()


async def test_writes_queued_behind_a_commit_succeed_fail_or_cancel_each_on_their_own(
    tmp_path: Path, make_order
):
    """Writes arriving while a commit is held run together once it is back: a duplicate
    among them is refused alone, one cancelled while waiting never runs, the rest are
    acknowledged after their own commit."""
    store = await open_sqlite_store(tmp_path / "oms.sqlite3")
    db = store.connection
    assert isinstance(db, SqliteDatabase)
    first = make_order(client_order_id="taken")
    disk = hold_commits(db)
    placing = asyncio.create_task(store.orders.create(first))
    await asyncio.sleep(0.05)  # held on the thread
    fine = [make_order() for _ in range(3)]
    dropped = make_order()
    tasks = [asyncio.create_task(store.orders.create(order)) for order in fine]
    duplicate = asyncio.create_task(store.orders.create(make_order(client_order_id="taken")))
    cancelled = asyncio.create_task(store.orders.create(dropped))
    await asyncio.sleep(0.05)
    cancelled.cancel()
    await asyncio.sleep(0)

    disk.set()
    await asyncio.wait_for(asyncio.gather(placing, *tasks), 10)
    with pytest.raises(DuplicateClientOrderId) as raised:
        await duplicate
    assert raised.value.existing_order_id == first.order_id
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await store.close()
    reopened = await open_sqlite_store(tmp_path / "oms.sqlite3")
    for order in (first, *fine):
        assert await reopened.orders.get(order.account_id, order.order_id) == order
    assert await reopened.orders.get(dropped.account_id, dropped.order_id) is None
    await reopened.close()


async def test_positions_of_the_previous_version_gain_a_cost_basis_and_realized_pnl(
    tmp_path: Path, make_execution
):
    path = tmp_path / "old.sqlite3"
    store = await open_sqlite_store(path)
    buys = [
        make_execution(side=Side.BUY, quantity=10, price=100, fee=0, executed_at=1),
        make_execution(side=Side.BUY, quantity=5, price=103, fee=0, executed_at=2),
        make_execution(side=Side.SELL, quantity=6, price=104, fee=0, executed_at=3),
    ]
    await store.executions.append_all(buys)
    await store.positions.apply_fills(buys)
    await store.close()
    with closing(sqlite3.connect(path)) as conn:  # what the previous version had
        for column in ("cost", "realized", "day", "day_start_quantity", "day_flow", "day_fees"):
            conn.execute(f"ALTER TABLE positions DROP COLUMN {column}")
        conn.execute("ALTER TABLE positions DROP COLUMN unsettled")
        conn.execute("ALTER TABLE executions DROP COLUMN settle_day")
        conn.execute("ALTER TABLE executions DROP COLUMN settled_at")
        conn.execute("ALTER TABLE position_fills DROP COLUMN settled_at")
        conn.execute("ALTER TABLE journal DROP COLUMN processed_at")
        conn.commit()

    reopened = await open_sqlite_store(path)

    position = await reopened.positions.get("acc-1", "AAPL")
    # 9 held, costed at the average buy price: 9 x 1515 / 15 = 909; realized follows:
    # sold 624 - bought 1515 + 909 = 18 (the same as average cost gives here)
    assert position is not None and (position.cost, position.realized) == (909, 18)
    old = await reopened.executions.get("acc-1", buys[0].execution_id)
    assert old is not None and old.settle_day == 0
    later = make_execution(side=Side.SELL, quantity=9, price=101, fee=0, executed_at=4)
    assert await reopened.positions.apply_fills([later]) == [True]
    flat = await reopened.positions.get("acc-1", "AAPL")
    assert flat is not None and (flat.net_quantity, flat.cost, flat.realized) == (0, 0, 18)
    await reopened.close()


async def test_a_database_made_before_held_orders_counts_them_open_once_reopened(
    tmp_path: Path, make_order
):
    path = tmp_path / "old.sqlite3"
    await (await open_sqlite_store(path)).close()
    held = make_order(status=OrderStatus.HELD, leaves_qty=0, held_qty=5, limit_price=150)
    with closing(sqlite3.connect(path)) as conn:
        # The previous version's exposure triggers, spelled before `held` was open...
        older_open = [s for s in OPEN_STATUSES if s is not OrderStatus.HELD]
        triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        for name, sql in triggers.fetchall():
            conn.execute(f"DROP TRIGGER {name}")
            for row in ("NEW.", "OLD."):
                sql = sql.replace(status_in(OPEN_STATUSES, row), status_in(older_open, row))
            conn.execute(sql)
        # ... which do not count a held order it stores.
        conn.execute(
            "INSERT INTO orders (order_id, account_id, client_order_id, symbol, side, status,"
            " created_at, version, dispatched, doc, updated_at, order_price, leaves_quantity)"
            " VALUES (?, 'acc-1', ?, 'AAPL', 'buy', 'held', 1, 0, 0, ?, 1, 150, 0)",
            (held.order_id, held.client_order_id, orjson.dumps(order_to_doc(held))),
        )
        conn.commit()
        assert conn.execute("SELECT COUNT(*) FROM order_exposure").fetchone()[0] == 0

    reopened = await open_sqlite_store(path)

    rows = await reopened.orders.open_exposure("acc-1")
    assert [(r.price, r.open_orders, r.leaves_qty) for r in rows] == [(150, 1, 0)]
    assert await reopened.orders.get("acc-1", held.order_id) == held
    await reopened.close()


async def test_a_change_that_takes_from_the_ledger_lands_after_a_write_in_the_open_group(
    tmp_path: Path, make_order
):
    """A replace (its ledger change takes) read the order before another writer's change of
    it, which is in the open group, not committed: the replace's retries must see that
    change once it commits, not read the stale version again and again (a 500 after every
    retry was spent in one turn of the loop, the group never committing)."""
    store = await open_sqlite_store(tmp_path / "oms.sqlite3")
    order = make_order()
    await store.orders.create(order)

    async def projector() -> None:
        seen = await store.orders.get(order.account_id, order.order_id)
        assert seen is not None
        seen.fees += 1
        await store.orders.update(seen, seen.version)

    async def replace() -> int:
        share = LedgerChange(order.account_id, lambda ledger: ledger, RiskLedger("acc-1"), True)
        for attempt in range(50):
            current = await store.orders.get(order.account_id, order.order_id)
            assert current is not None
            try:
                await store.orders.update(current, current.version, share)
            except VersionConflict:
                continue
            return attempt
        raise AssertionError("the replace never landed")

    _, attempts = await asyncio.gather(projector(), replace())

    assert attempts == 1  # once refused (the projector's write came first), then written
    stored = await store.orders.get(order.account_id, order.order_id)
    assert stored is not None and (stored.version, stored.fees) == (2, order.fees + 1)
    await store.close()
