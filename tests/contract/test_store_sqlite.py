"""The SQLite adapter's own promises: durable across restarts, chosen by default."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

from shared.adapters.sqlite.database import PENDING_ORDERS
from shared.adapters.sqlite.orders import _EXPOSURE
from shared.config.settings import Settings
from shared.ports.store_errors import DuplicateClientOrderId
from shared.ports.store_journal import JournalEntry
from shared.store_factory import open_sqlite_store, store_from_settings


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
        conn.execute("DROP INDEX orders_open")
        conn.execute("ALTER TABLE orders DROP COLUMN order_price")
        conn.execute("ALTER TABLE orders DROP COLUMN leaves_quantity")
        conn.commit()

    reopened = await open_sqlite_store(path)

    rows = await reopened.orders.open_exposure("acc-1")
    assert sorted((r.price, r.open_orders, r.leaves_quantity) for r in rows) == [
        (140, 1, 4),
        (150, 1, 10),
    ]
    plan = reopened.connection.conn.execute(  # type: ignore[attr-defined]
        "EXPLAIN QUERY PLAN " + _EXPOSURE, ("acc-1", "")
    ).fetchall()
    assert "COVERING INDEX orders_open" in str(plan)
    await reopened.close()
