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
