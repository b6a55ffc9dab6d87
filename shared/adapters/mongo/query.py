"""Query helpers shared by the MongoDB repositories: keyset paging and bounded finds."""

from __future__ import annotations

from pymongo.asynchronous.collection import AsyncCollection

from shared.ports.store_codec import Doc
from shared.ports.store_paging import decode_cursor

NEWEST_FIRST = [("created_at", -1), ("_id", -1)]


def keyset_after(field: str, cursor: str) -> Doc:
    """The filter for items after `cursor` in (field, _id) descending order."""
    ts, key = decode_cursor(cursor)
    return {"$or": [{field: {"$lt": ts}}, {field: ts, "_id": {"$lt": key}}]}


async def find_list(
    collection: AsyncCollection[Doc], query: Doc, sort: list[tuple[str, int]], limit: int
) -> list[Doc]:
    """The first `limit` documents matching `query` in `sort` order."""
    return await collection.find(query).sort(sort).limit(limit).to_list()
