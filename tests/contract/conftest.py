"""Store fixtures: the same contract suite runs on every store adapter available here.

- `sqlite`: the embedded adapter on an in-memory database.
- `secantus`: the MongoDB adapter on SecantusDB (a MongoDB wire-protocol server, test-only,
  GPL-2.0), started once per session in-process on a loopback port; each test gets a fresh
  database, so data stays small.
- `mongodb`: the MongoDB adapter on the real MongoDB / Cosmos DB at MONGODB_URI (skipped
  without it); each test gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from shared.adapters.mongo.store import open_mongo_store
from shared.adapters.sqlite.store import open_sqlite_store
from shared.domain.enums import Liquidity, OrderType, Side, TimeInForce
from shared.domain.order import Order
from shared.ports.store import Store
from shared.ports.store_executions import Execution

STORE_KINDS = ("sqlite", "secantus", "mongodb")


@pytest.fixture(scope="session")
def secantus_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SecantusDB server on a loopback port for the whole session."""
    # Test-only (GPL-2.0): imported here, never by product code.
    secantus = importlib.import_module("secantus")
    server = secantus.SecantusDBServer(
        host="127.0.0.1",
        port=0,
        storage_path=str(tmp_path_factory.mktemp("secantus")),
        replica_set_name=None,
    )
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()


async def _mongo_store(uri: str) -> AsyncIterator[Store]:
    database = f"oms_test_{uuid.uuid4().hex[:12]}"
    store = await open_mongo_store(uri, database)
    try:
        yield store
    finally:
        connection: Any = store.connection
        await connection.client.drop_database(database)
        await store.close()


@pytest.fixture(params=STORE_KINDS)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """A fresh, empty store of each kind."""
    if request.param == "sqlite":
        # A file, as the local run has: writes commit on their own thread, reads run on a
        # second connection (an in-memory database has one connection for both).
        path = request.getfixturevalue("tmp_path") / "contract.sqlite3"
        sqlite_store = await open_sqlite_store(path)
        yield sqlite_store
        await sqlite_store.close()
        return
    if request.param == "secantus":
        uri = request.getfixturevalue("secantus_uri")
    else:
        uri = os.environ.get("MONGODB_URI", "")
        if not uri:
            pytest.skip("MONGODB_URI is not set: no real MongoDB / Cosmos DB to test against")
    async for mongo_store in _mongo_store(uri):
        yield mongo_store


@pytest.fixture
def make_order() -> Callable[..., Order]:
    """Build a limit order; keyword arguments override any field."""
    counter = iter(range(1, 1_000_000))

    def make(**overrides: Any) -> Order:
        n = next(counter)
        fields: dict[str, Any] = {
            "order_id": uuid.uuid4().hex,
            "client_order_id": f"c-{n}-{uuid.uuid4().hex[:6]}",
            "account_id": "acc-1",
            "symbol": "AAPL",
            "side": Side.BUY,
            "type": OrderType.LIMIT,
            "time_in_force": TimeInForce.GTC,
            "quantity": 100,
            "limit_price": 15_025,
            "stop_price": None,
            "created_at": 1_700_000_000_000_000_000 + n,
        }
        fields.update(overrides)
        return Order(**fields)

    return make


@pytest.fixture
def make_execution() -> Callable[..., Execution]:
    """Build an execution; keyword arguments override any field."""
    counter = iter(range(1, 1_000_000))

    def make(**overrides: Any) -> Execution:
        n = next(counter)
        fields: dict[str, Any] = {
            "execution_id": f"AAPL-E{n}",
            "order_id": "order-1",
            "account_id": "acc-1",
            "symbol": "AAPL",
            "side": Side.BUY,
            "quantity": 10,
            "price": 15_000,
            "liquidity": Liquidity.MAKER,
            "fee": 3,
            "trade_id": f"AAPL-T{n}",
            "executed_at": 1_700_000_000_000_000_000 + n,
        }
        fields.update(overrides)
        return Execution(**fields)

    return make
