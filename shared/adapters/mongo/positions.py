"""Positions on MongoDB: one document per (account, symbol), shard key account_id.

Without transactions the applied execution ids live in the position document itself, so
the counters and "this fill was applied" change in one atomic single-document update. The
list keeps the last APPLIED_WINDOW ids of the position: a redelivery older than that many
later fills of the same account and instrument would count again (upstream, the order's
per-order sequence refuses such a stale fill first).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo.query import find_list
from shared.adapters.mongo.throttle import with_retry
from shared.all_finished import all_finished
from shared.ports.store_codec import Doc, fill_increments, position_from_doc
from shared.ports.store_executions import Execution
from shared.ports.store_positions import Position

APPLIED_WINDOW = 1_000


def _position_id(account_id: str, symbol: str) -> str:
    return f"{account_id}|{symbol}"


class MongoPositionRepository:
    """The PositionRepository on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self._positions = collection

    async def apply_fills(self, executions: Sequence[Execution]) -> list[bool]:
        return await all_finished([self.apply_fill(e) for e in executions])

    async def apply_fill(self, execution: Execution) -> bool:
        position_id = _position_id(execution.account_id, execution.symbol)
        query = {
            "_id": position_id,
            "account_id": execution.account_id,
            "applied": {"$ne": execution.execution_id},
        }
        update = {
            "$inc": fill_increments(execution),
            "$max": {"updated_at": execution.executed_at},
            "$push": {"applied": {"$each": [execution.execution_id], "$slice": -APPLIED_WINDOW}},
            "$setOnInsert": {"symbol": execution.symbol},
        }
        for _ in range(3):
            try:
                await with_retry(partial(self._positions.update_one, query, update, upsert=True))
                return True
            except DuplicateKeyError:
                # The document exists and holds this id, or a racing first fill created it.
                held: Doc = {
                    "_id": position_id,
                    "account_id": execution.account_id,
                    "applied": execution.execution_id,
                }
                if await with_retry(partial(self._positions.find_one, held)) is not None:
                    return False
        raise RuntimeError(f"position {position_id}: upsert kept colliding")

    async def get(self, account_id: str, symbol: str) -> Position | None:
        query = {"_id": _position_id(account_id, symbol), "account_id": account_id}
        doc = await with_retry(partial(self._positions.find_one, query))
        return None if doc is None else position_from_doc(doc)

    async def list_positions(self, account_id: str) -> list[Position]:
        query = {"account_id": account_id}
        docs = await with_retry(partial(find_list, self._positions, query, [("symbol", 1)], 0))
        return [position_from_doc(doc) for doc in docs]
