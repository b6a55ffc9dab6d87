"""The audit log on MongoDB: `_id` = audit id, shard key target_id (most look-ups name the
account or instrument acted on)."""

from __future__ import annotations

import contextlib
import dataclasses
from functools import partial
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo.query import find_list, keyset_after
from shared.adapters.mongo.throttle import with_retry
from shared.ports.store_audit import AuditEntry, AuditFilter
from shared.ports.store_codec import Doc
from shared.ports.store_paging import DEFAULT_PAGE_SIZE, Page, clamp_limit, encode_cursor

NEWEST_FIRST = [("at", -1), ("_id", -1)]


def _entry(doc: Doc) -> AuditEntry:
    return AuditEntry(**{f.name: doc[f.name] for f in dataclasses.fields(AuditEntry)})


class MongoAuditRepository:
    """The AuditRepository on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self._audit = collection

    async def append(self, entry: AuditEntry) -> None:
        doc = {"_id": entry.audit_id, **dataclasses.asdict(entry)}
        with contextlib.suppress(DuplicateKeyError):  # stored before
            await with_retry(partial(self._audit.insert_one, doc))

    async def list_entries(
        self, where: AuditFilter, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[AuditEntry]:
        limit = clamp_limit(limit)
        query: Doc = {}
        for name in ("actor", "action", "target_type", "target_id"):
            value = getattr(where, name)
            if value is not None:
                query[name] = value
        at: dict[str, Any] = {}
        if where.since is not None:
            at["$gte"] = where.since
        if where.until is not None:
            at["$lt"] = where.until
        if at:
            query["at"] = at
        if cursor is not None:
            query = {"$and": [query, keyset_after("at", cursor)]}
        docs = await with_retry(partial(find_list, self._audit, query, NEWEST_FIRST, limit + 1))
        items = [_entry(doc) for doc in docs[:limit]]
        last = items[-1] if len(docs) > limit else None
        return Page(items, encode_cursor(last.at, last.audit_id) if last else None)
