"""Executions on MongoDB: `_id` = execution id, shard key account_id."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo.query import find_list, keyset_after
from shared.adapters.mongo.throttle import with_retry
from shared.all_finished import all_finished
from shared.domain.ids import trade_execution_ids
from shared.ports.store_codec import Doc, execution_from_doc, execution_to_doc, one_row_per_trade
from shared.ports.store_executions import Execution
from shared.ports.store_paging import DEFAULT_PAGE_SIZE, Page, clamp_limit, encode_cursor

NEWEST_FIRST = [("executed_at", -1), ("_id", -1)]


class MongoExecutionRepository:
    """The ExecutionRepository on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self._executions = collection

    async def append(self, execution: Execution) -> bool:
        doc = {"_id": execution.execution_id, **execution_to_doc(execution)}
        try:
            await with_retry(partial(self._executions.insert_one, doc))
        except DuplicateKeyError:
            return False
        return True

    async def append_all(self, executions: Sequence[Execution]) -> list[bool]:
        return await all_finished([self.append(e) for e in executions])

    async def get(self, account_id: str, execution_id: str) -> Execution | None:
        query = {"_id": execution_id, "account_id": account_id}
        doc = await with_retry(partial(self._executions.find_one, query))
        return None if doc is None else execution_from_doc(doc)

    async def list_by_order(self, account_id: str, order_id: str) -> list[Execution]:
        query = {"account_id": account_id, "order_id": order_id}
        sort = [("executed_at", 1), ("_id", 1)]
        docs = await with_retry(partial(find_list, self._executions, query, sort, 0))
        return [execution_from_doc(doc) for doc in docs]

    async def list_by_account(
        self,
        account_id: str,
        *,
        symbol: str | None = None,
        since: int | None = None,
        until: int | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[Execution]:
        limit = clamp_limit(limit)
        query: Doc = {"account_id": account_id}
        if symbol is not None:
            query["symbol"] = symbol
        executed: dict[str, Any] = {}
        if since is not None:
            executed["$gte"] = since
        if until is not None:
            executed["$lt"] = until
        if executed:
            query["executed_at"] = executed
        if cursor is not None:
            query = {"$and": [query, keyset_after("executed_at", cursor)]}
        docs = await with_retry(
            partial(find_list, self._executions, query, NEWEST_FIRST, limit + 1)
        )
        items = [execution_from_doc(doc) for doc in docs[:limit]]
        last = items[-1] if len(docs) > limit else None
        return Page(items, encode_cursor(last.executed_at, last.execution_id) if last else None)

    async def list_by_trade(self, trade_id: str) -> list[Execution]:
        ids = trade_execution_ids(trade_id)
        if ids is None:
            return []
        query = {"_id": {"$in": list(ids)}, "trade_id": trade_id}
        docs = await with_retry(partial(find_list, self._executions, query, [("_id", 1)], 0))
        return [execution_from_doc(doc) for doc in docs]

    async def list_trades(self, symbol: str, limit: int = DEFAULT_PAGE_SIZE) -> list[Execution]:
        limit = clamp_limit(limit)
        # A trade has at most two rows (maker and taker) sharing its timestamp.
        query = {"symbol": symbol, "trade_id": {"$ne": ""}}
        docs = await with_retry(
            partial(find_list, self._executions, query, NEWEST_FIRST, 2 * limit)
        )
        return one_row_per_trade([execution_from_doc(doc) for doc in docs], limit)

    async def list_trades_between(
        self,
        symbol: str,
        *,
        since: int | None = None,
        until: int | None = None,
        after: tuple[int, str] | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> list[Execution]:
        query: Doc = {"symbol": symbol, "trade_id": {"$ne": ""}, "liquidity": "maker"}
        executed: dict[str, Any] = {}
        if since is not None:
            executed["$gte"] = since
        if until is not None:
            executed["$lt"] = until
        if executed:
            query["executed_at"] = executed
        if after is not None:
            ts, key = after
            later = {
                "$or": [{"executed_at": {"$gt": ts}}, {"executed_at": ts, "_id": {"$gt": key}}]
            }
            query = {"$and": [query, later]}
        sort = [("executed_at", 1), ("_id", 1)]
        docs = await with_retry(
            partial(find_list, self._executions, query, sort, clamp_limit(limit))
        )
        return [execution_from_doc(doc) for doc in docs]
