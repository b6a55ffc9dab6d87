"""Order history on MongoDB, shard key account_id.

- `order_events`: `_id` = "<order_id>:<seq>"; one unordered `insert_many` per batch, a
  duplicate key being an event stored before.
- `order_activity`: `_id` = order id. Without transactions each order's merge is one
  atomic update: the state is set only where the stored `order_seq` is not ahead
  (`$max`/`$min` merge the times); where it is ahead, only the times merge. An unknown
  earliest time is stored as a sentinel above any clock so `$min` can merge it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.adapters.mongo.query import find_list, keyset_after
from shared.adapters.mongo.throttle import with_retry
from shared.all_finished import all_finished
from shared.ports.store_codec import Doc, activity_from_doc, activity_to_doc
from shared.ports.store_order_events import OrderActivity, StoredEvent
from shared.ports.store_paging import DEFAULT_PAGE_SIZE, Page, clamp_limit, encode_cursor

DUPLICATE_KEY = 11000
_UNKNOWN = 2**62  # "not yet" for the earliest-time fields: above every clock reading
_EARLIEST = ("accepted_at", "first_fill_at")
NEWEST_FIRST = [("created_at", -1), ("_id", -1)]


def _stored(value: int) -> int:
    return value or _UNKNOWN


def _read(doc: Doc) -> OrderActivity:
    for name in _EARLIEST:
        if doc.get(name) == _UNKNOWN:
            doc[name] = 0
    return activity_from_doc(doc)


class MongoOrderEventRepository:
    """The OrderEventRepository on MongoDB."""

    def __init__(self, events: AsyncCollection[Doc], activity: AsyncCollection[Doc]) -> None:
        self._events = events
        self._activity = activity

    async def record(
        self, events: Sequence[StoredEvent], activity: Sequence[OrderActivity]
    ) -> None:
        await all_finished([self._insert_events(events), *(self._merge(one) for one in activity)])

    async def _insert_events(self, events: Sequence[StoredEvent]) -> None:
        if not events:
            return
        docs = [
            {
                "_id": f"{e.order_id}:{e.seq}",
                "account_id": e.account_id,
                "order_id": e.order_id,
                "symbol": e.symbol,
                "seq": e.seq,
                "order_seq": e.order_seq,
                "processed_at": e.processed_at,
                "event": e.event,
            }
            for e in events
        ]
        try:
            await with_retry(partial(self._events.insert_many, docs, ordered=False))
        except BulkWriteError as error:
            if any(w.get("code") != DUPLICATE_KEY for w in error.details["writeErrors"]):
                raise

    async def _merge(self, activity: OrderActivity) -> None:
        doc = activity_to_doc(activity)
        times: dict[str, Any] = {
            "$min": {name: _stored(doc.pop(name)) for name in _EARLIEST},
            "$max": {"completed_at": doc.pop("completed_at")},
        }
        key = {"_id": activity.order_id, "account_id": activity.account_id}
        newer = {**key, "order_seq": {"$lte": activity.order_seq}}
        for _ in range(3):
            try:
                await with_retry(
                    partial(self._activity.update_one, newer, {"$set": doc, **times}, upsert=True)
                )
                return
            except DuplicateKeyError:
                # Stored further along (its state stays), or a racing first write made it.
                result = await with_retry(partial(self._activity.update_one, key, times))
                if result.matched_count:
                    return
        raise RuntimeError(f"order activity {activity.order_id}: upsert kept colliding")

    async def list_by_order(self, account_id: str, order_id: str) -> list[StoredEvent]:
        query = {"account_id": account_id, "order_id": order_id}
        docs = await with_retry(partial(find_list, self._events, query, [("seq", 1)], 0))
        return [
            StoredEvent(
                d["account_id"],
                d["order_id"],
                d["symbol"],
                d["seq"],
                d["order_seq"],
                d["processed_at"],
                d["event"],
            )
            for d in docs
        ]

    async def get_activity(self, account_id: str, order_id: str) -> OrderActivity | None:
        query = {"_id": order_id, "account_id": account_id}
        doc = await with_retry(partial(self._activity.find_one, query))
        return None if doc is None else _read(doc)

    async def list_activity(
        self,
        account_id: str,
        *,
        symbol: str | None = None,
        since: int | None = None,
        until: int | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[OrderActivity]:
        limit = clamp_limit(limit)
        query: Doc = {"account_id": account_id}
        if symbol is not None:
            query["symbol"] = symbol
        created: dict[str, Any] = {}
        if since is not None:
            created["$gte"] = since
        if until is not None:
            created["$lt"] = until
        if created:
            query["created_at"] = created
        if cursor is not None:
            query = {"$and": [query, keyset_after("created_at", cursor)]}
        docs = await with_retry(partial(find_list, self._activity, query, NEWEST_FIRST, limit + 1))
        items = [_read(doc) for doc in docs[:limit]]
        last = items[-1] if len(docs) > limit else None
        return Page(items, encode_cursor(last.created_at, last.order_id) if last else None)
