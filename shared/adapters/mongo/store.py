"""Builds the Store on MongoDB / Cosmos DB for MongoDB."""

from __future__ import annotations

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from shared.adapters.mongo.accounts import MongoAccountRepository
from shared.adapters.mongo.audit import MongoAuditRepository
from shared.adapters.mongo.cash import MongoCashLedgerRepository
from shared.adapters.mongo.executions import MongoExecutionRepository
from shared.adapters.mongo.feeds import MongoFeedStreamRepository
from shared.adapters.mongo.idempotency import MongoIdempotencyRepository
from shared.adapters.mongo.indexes import ensure_indexes
from shared.adapters.mongo.instruments import MongoInstrumentRepository
from shared.adapters.mongo.journal import MongoJournalRepository
from shared.adapters.mongo.orders import MongoOrderRepository
from shared.adapters.mongo.positions import MongoPositionRepository
from shared.adapters.mongo.risk import MongoRiskLedgerRepository
from shared.adapters.mongo.venues import MongoVenueRepository
from shared.ports.store import Store
from shared.ports.store_codec import Doc
from shared.ports.store_errors import StoreUnavailable


class MongoConnection:
    """The client behind the repositories."""

    def __init__(self, client: AsyncMongoClient[Doc], database: str) -> None:
        self.client = client
        self.database = database

    async def ping(self) -> None:
        try:
            await self.client[self.database].command("ping")
        except PyMongoError as error:
            raise StoreUnavailable(str(error)) from error

    async def close(self) -> None:
        await self.client.close()


async def open_mongo_store(
    uri: str, database: str, *, server_selection_timeout_ms: int = 10_000
) -> Store:
    """Connect to `uri`, create the missing indexes in `database` and build the Store.

    The driver's own retryable writes are off: Cosmos DB does not support them, and every
    write here is safe to repeat by design (unique keys or a version in the filter).
    """
    client: AsyncMongoClient[Doc] = AsyncMongoClient(
        uri,
        retryWrites=False,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        appname="oms",
        tz_aware=False,
    )
    connection = MongoConnection(client, database)
    try:
        await connection.ping()
        db = client[database]
        await ensure_indexes(db)
    except BaseException:
        await client.close()
        raise
    idempotency = MongoIdempotencyRepository(db["idempotency"])
    ledgers = MongoRiskLedgerRepository(db["risk_ledgers"])
    return Store(
        orders=MongoOrderRepository(db["orders"], idempotency, ledgers),
        executions=MongoExecutionRepository(db["executions"]),
        journal=MongoJournalRepository(db["journal"], db["journal_marks"]),
        accounts=MongoAccountRepository(db["accounts"]),
        positions=MongoPositionRepository(db["positions"], db["executions"]),
        instruments=MongoInstrumentRepository(db["instruments"]),
        idempotency=idempotency,
        venues=MongoVenueRepository(db["venues"], db["venue_connections"], db["venue_sessions"]),
        feeds=MongoFeedStreamRepository(db["feed_streams"]),
        risk=ledgers,
        cash=MongoCashLedgerRepository(db["cash_ledger"]),
        audit=MongoAuditRepository(db["audit"]),
        connection=connection,
    )
