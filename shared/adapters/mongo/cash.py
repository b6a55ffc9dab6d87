"""The cash ledger on MongoDB, shard key account_id: `_id` = "<account_id>|<entry_id>"
(a retried entry collides with itself) and a unique index on (account_id, seq) (two entries
racing for one number collide with each other)."""

from __future__ import annotations

import dataclasses
from functools import partial

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo.query import find_list
from shared.adapters.mongo.throttle import with_retry
from shared.ports.store_cash import CashEntry, LedgerConflict
from shared.ports.store_codec import Doc
from shared.ports.store_paging import (
    DEFAULT_PAGE_SIZE,
    Page,
    clamp_limit,
    decode_cursor,
    encode_cursor,
)

NEWEST_FIRST = [("seq", -1)]


def _entry(doc: Doc) -> CashEntry:
    return CashEntry(**{f.name: doc[f.name] for f in dataclasses.fields(CashEntry)})


class MongoCashLedgerRepository:
    """The CashLedgerRepository on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self._ledger = collection

    async def append(self, entry: CashEntry) -> CashEntry:
        doc = {"_id": f"{entry.account_id}|{entry.entry_id}", **dataclasses.asdict(entry)}
        try:
            await with_retry(partial(self._ledger.insert_one, doc))
        except DuplicateKeyError:
            stored = await self.get(entry.account_id, entry.entry_id)
            if stored is None:
                raise LedgerConflict(f"{entry.account_id}: entry {entry.seq} is taken") from None
            return stored
        return entry

    async def last(self, account_id: str) -> CashEntry | None:
        docs = await with_retry(
            partial(find_list, self._ledger, {"account_id": account_id}, NEWEST_FIRST, 1)
        )
        return _entry(docs[0]) if docs else None

    async def get(self, account_id: str, entry_id: str) -> CashEntry | None:
        query = {"_id": f"{account_id}|{entry_id}", "account_id": account_id}
        doc = await with_retry(partial(self._ledger.find_one, query))
        return None if doc is None else _entry(doc)

    async def list_entries(
        self, account_id: str, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[CashEntry]:
        limit = clamp_limit(limit)
        query: Doc = {"account_id": account_id}
        if cursor is not None:
            seq, _ = decode_cursor(cursor)
            query["seq"] = {"$lt": seq}
        docs = await with_retry(partial(find_list, self._ledger, query, NEWEST_FIRST, limit + 1))
        items = [_entry(doc) for doc in docs[:limit]]
        last = items[-1] if len(docs) > limit else None
        return Page(items, encode_cursor(last.seq, last.entry_id) if last else None)
