"""Collections, shard keys and the indexes created at start-up (see the package docstring).

Cosmos DB only creates a unique index on an empty collection, so `ensure_indexes` runs at
start-up before the first write, skips an index whose keys exist already (under any name,
for instance one declared in Bicep) and names the index when it cannot be built.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from shared.adapters.mongo.throttle import with_retry
from shared.ports.store_errors import StoreError

Keys = tuple[tuple[str, int], ...]
Doc = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Index:
    keys: Keys
    unique: bool = False


SHARD_KEYS: dict[str, str] = {
    "orders": "account_id",
    "executions": "account_id",
    "journal": "symbol",
    "journal_marks": "symbol",
    "accounts": "account_id",
    "positions": "account_id",
    "instruments": "symbol",
    "idempotency": "account_id",
    "venues": "name",
    "venue_connections": "name",
    "feed_streams": "stream",
    "risk_ledgers": "account_id",
    "cash_ledger": "account_id",
    "audit": "target_id",
    "venue_sessions": "key",
}

# Every key ascending: newest-first queries walk the same index backwards, and the keys
# match the ones Bicep declares (which names keys without directions).
INDEXES: dict[str, tuple[Index, ...]] = {
    "orders": (
        Index((("account_id", ASCENDING), ("client_order_id", ASCENDING)), unique=True),
        Index((("account_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING))),
        Index((("dispatched", ASCENDING), ("created_at", ASCENDING))),
        Index((("status", ASCENDING), ("updated_at", ASCENDING))),
    ),
    "executions": (
        Index((("account_id", ASCENDING), ("execution_id", ASCENDING)), unique=True),
        Index((("account_id", ASCENDING), ("order_id", ASCENDING), ("executed_at", ASCENDING))),
        Index((("account_id", ASCENDING), ("executed_at", ASCENDING), ("_id", ASCENDING))),
        Index((("symbol", ASCENDING), ("executed_at", ASCENDING), ("_id", ASCENDING))),
    ),
    "journal": (
        Index((("symbol", ASCENDING), ("command_id", ASCENDING)), unique=True),
        Index((("symbol", ASCENDING), ("first_seq", ASCENDING)), unique=True),
        Index((("symbol", ASCENDING), ("last_seq", ASCENDING))),
    ),
    "journal_marks": (),
    "accounts": (
        Index((("account_id", ASCENDING), ("api_key_hash", ASCENDING)), unique=True),
        Index((("kind", ASCENDING), ("account_id", ASCENDING))),
    ),
    "positions": (Index((("account_id", ASCENDING), ("symbol", ASCENDING)), unique=True),),
    "instruments": (),
    "idempotency": (Index((("account_id", ASCENDING), ("key", ASCENDING)), unique=True),),
    "venues": (),
    "venue_connections": (),
    "feed_streams": (),
    "risk_ledgers": (),
    "cash_ledger": (Index((("account_id", ASCENDING), ("seq", ASCENDING)), unique=True),),
    "audit": (
        Index((("at", ASCENDING), ("_id", ASCENDING))),
        Index((("target_id", ASCENDING), ("at", ASCENDING), ("_id", ASCENDING))),
    ),
    "venue_sessions": (),
}


def _keys(spec: Any) -> Keys:
    return tuple((str(name), int(direction)) for name, direction in spec)


async def _existing_keys(collection: AsyncCollection[Doc]) -> set[Keys]:
    try:
        info = await collection.index_information()
    except OperationFailure as error:
        if error.code != 26:  # NamespaceNotFound: the first index creates the collection
            raise
        return set()
    return {_keys(index["key"]) for index in info.values()}


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    """Create every missing index of every collection."""
    for name, indexes in INDEXES.items():
        collection = db[name]
        existing = await with_retry(partial(_existing_keys, collection))
        for index in indexes:
            if index.keys in existing:
                continue
            try:
                await with_retry(
                    partial(collection.create_index, list(index.keys), unique=index.unique)
                )
            except OperationFailure as error:
                raise StoreError(
                    f"cannot create index {index.keys} on {name} (Cosmos DB builds unique"
                    f" indexes only on empty collections): {error}"
                ) from error
