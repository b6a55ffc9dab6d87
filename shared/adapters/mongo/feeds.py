"""Feed-stream positions on MongoDB: `_id` = stream = shard key, advanced by one atomic
find-and-modify (an upsert the first time)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo.throttle import with_retry
from shared.all_finished import all_finished
from shared.ports.store_codec import Doc
from shared.ports.store_feeds import FeedPosition, new_epoch


class MongoFeedStreamRepository:
    """The FeedStreamRepository on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self._streams = collection

    async def advance(self, stream: str, count: int) -> FeedPosition:
        query = {"_id": stream, "stream": stream}
        update = {"$inc": {"seq": count}, "$setOnInsert": {"epoch": new_epoch()}}
        for _ in range(3):
            try:
                doc = await with_retry(
                    partial(
                        self._streams.find_one_and_update,
                        query,
                        update,
                        upsert=True,
                        return_document=ReturnDocument.AFTER,
                    )
                )
            except DuplicateKeyError:
                continue  # a racing first number inserted it: increment it now
            assert doc is not None
            return FeedPosition(str(doc["epoch"]), int(doc["seq"]))
        raise RuntimeError(f"feed stream {stream}: the upsert kept colliding")

    async def advance_all(self, counts: Sequence[tuple[str, int]]) -> list[FeedPosition]:
        return await all_finished([self.advance(stream, count) for stream, count in counts])

    async def position(self, stream: str) -> FeedPosition | None:
        query = {"_id": stream, "stream": stream}
        doc = await with_retry(partial(self._streams.find_one, query))
        return None if doc is None else FeedPosition(str(doc["epoch"]), int(doc["seq"]))
