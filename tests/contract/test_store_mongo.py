"""The MongoDB adapter's own promises, shown on SecantusDB: indexes at start-up, and
throttled requests (Cosmos DB error 16500) retried instead of failing the caller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from shared.adapters.mongo.indexes import INDEXES
from shared.adapters.mongo.store import open_mongo_store
from shared.domain.enums import OrderClass, OrderType
from shared.ports.store import Store
from shared.ports.store_journal import JournalEntry


@pytest.fixture
async def mongo(secantus_uri: str) -> AsyncIterator[tuple[Store, AsyncMongoClient[Any]]]:
    database = f"oms_test_{uuid.uuid4().hex[:12]}"
    store = await open_mongo_store(secantus_uri, database)
    admin: AsyncMongoClient[Any] = AsyncMongoClient(secantus_uri)
    try:
        yield store, admin
    finally:
        await admin.admin.command("configureFailPoint", "failCommand", mode="off")
        await admin.drop_database(database)
        await admin.close()
        await store.close()


async def throttle(admin: AsyncMongoClient[Any], command: str, times: int) -> None:
    """Make the server answer the next `times` `command`s with Cosmos DB's 16500."""
    await admin.admin.command(
        "configureFailPoint",
        "failCommand",
        mode={"times": times},
        data={"failCommands": [command], "errorCode": 16500},
    )


async def test_start_up_creates_the_unique_indexes_once(mongo, secantus_uri):
    store, admin = mongo
    database = admin[store.connection.database]

    again = await open_mongo_store(secantus_uri, store.connection.database)
    await again.close()

    for name, indexes in INDEXES.items():
        info = await database[name].index_information() if indexes else {}
        stored = {tuple(index["key"]): index.get("unique", False) for index in info.values()}
        for index in indexes:
            assert stored[index.keys] == index.unique, (name, index.keys)


async def test_a_throttled_order_insert_is_retried_and_stored_once(mongo, make_order):
    store, admin = mongo
    order = make_order()
    await throttle(admin, "insert", times=2)

    await store.orders.create(order)

    assert (await store.orders.list_orders("acc-1")).items == [order]


async def test_a_throttled_conditional_update_is_retried(mongo, make_order):
    store, admin = mongo
    order = make_order()
    await store.orders.create(order)
    await throttle(admin, "update", times=2)

    await store.orders.update(order, expected_version=0)

    stored = await store.orders.get("acc-1", order.order_id)
    assert stored is not None and stored.version == 1


async def test_a_throttled_journal_batch_is_stored_once_in_order(mongo):
    store, admin = mongo
    batch = [
        JournalEntry("AAPL", f"c{seq}", seq, seq, {"kind": "x"}, [{"seq": seq}])
        for seq in range(1, 4)
    ]
    await throttle(admin, "insert", times=1)

    assert await store.journal.append(batch) == batch

    assert [e async for e in store.journal.read_from("AAPL", 1)] == batch


async def test_throttled_reads_are_retried(mongo, make_order):
    store, admin = mongo
    order = make_order()
    await store.orders.create(order)
    await throttle(admin, "find", times=2)

    assert await store.orders.get("acc-1", order.order_id) == order


async def test_a_group_a_crash_left_half_stored_is_completed_from_its_head(mongo, make_order):
    store, _ = mongo
    head = make_order(
        order_id="h1", client_order_id="g", order_class=OrderClass.OCO, leg="take_profit"
    )
    stop = make_order(
        order_id="h1-sl",
        client_order_id="g-sl",
        order_class=OrderClass.OCO,
        leg="stop_loss",
        parent_order_id="h1",
        type=OrderType.STOP,
        limit_price=None,
        stop_price=14_000,
    )
    claims = ["client-order-id:g", "client-order-id:g-sl"]
    # The two claims and the head are written; the process dies before the stop-loss.
    insert = store.orders._insert

    async def dying(doc: dict[str, Any], order: Any) -> None:
        if doc["_id"] != "h1":
            raise SystemExit("killed")
        await insert(doc, order)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store.orders, "_insert", dying)
        with pytest.raises(SystemExit):
            await store.orders.create_group([head, stop], claims)
    assert [o.order_id for o in (await store.orders.list_orders("acc-1")).items] == ["h1"]

    group = await store.orders.get_group("acc-1", ["h1", "h1-sl"])

    assert group == [head, stop]
    assert await store.orders.get("acc-1", "h1-sl") == stop
    assert await store.orders.get_group("acc-1", ["h1", "h1-sl"]) == [head, stop]
