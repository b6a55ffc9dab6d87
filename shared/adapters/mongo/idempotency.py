"""Idempotency records on MongoDB: `_id` = "<account>|<key>", shard key account_id."""

from __future__ import annotations

import time
from functools import partial

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo.throttle import with_retry
from shared.ports.store_codec import Doc
from shared.ports.store_idempotency import IdempotencyRecord


def _record(doc: Doc) -> IdempotencyRecord:
    return IdempotencyRecord(
        doc["account_id"],
        doc["key"],
        doc["request_hash"],
        doc["status_code"],
        bytes(doc["body"]),
        doc["created_at"],
    )


class MongoIdempotencyRepository:
    """The IdempotencyRepository on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self._records = collection

    async def put_if_absent(
        self,
        account_id: str,
        key: str,
        request_hash: str,
        status_code: int,
        body: bytes,
        created_at: int | None = None,
    ) -> IdempotencyRecord:
        doc = {
            "_id": f"{account_id}|{key}",
            "account_id": account_id,
            "key": key,
            "request_hash": request_hash,
            "status_code": status_code,
            "body": bytes(body),
            "created_at": time.time_ns() if created_at is None else created_at,
        }
        try:
            await with_retry(partial(self._records.insert_one, doc))
            return _record(doc)
        except DuplicateKeyError:
            stored = await self.get(account_id, key)
            assert stored is not None  # records are never deleted
            return stored

    async def get(self, account_id: str, key: str) -> IdempotencyRecord | None:
        query = {"account_id": account_id, "key": key}
        doc = await with_retry(partial(self._records.find_one, query))
        return None if doc is None else _record(doc)
