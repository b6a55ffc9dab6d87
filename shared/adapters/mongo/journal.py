"""The matcher's journal on MongoDB: one document per command, shard key symbol.

No transactions: a batch goes in with one ordered `insert_many`; the unique indexes on
(symbol, command_id) and (symbol, first_seq) decide races between two writers, and a
duplicate found there is resolved like a retry (the stored entry is returned) or reported
as a JournalConflict.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from functools import partial

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.adapters.mongo.query import find_list
from shared.adapters.mongo.throttle import with_retry
from shared.ports.store_codec import Doc
from shared.ports.store_errors import JournalConflict
from shared.ports.store_journal import JournalEntry, check_batch, check_next

READ_PAGE = 500
DUPLICATE_KEY = 11000


def _doc(entry: JournalEntry) -> Doc:
    return {
        "_id": f"{entry.symbol}|{entry.command_id}",
        "symbol": entry.symbol,
        "command_id": entry.command_id,
        "first_seq": entry.first_seq,
        "last_seq": entry.last_seq,
        "command": entry.command,
        "events": entry.events,
        "processed_at": entry.processed_at,
    }


def _entry(doc: Doc) -> JournalEntry:
    return JournalEntry(
        doc["symbol"],
        doc["command_id"],
        doc["first_seq"],
        doc["last_seq"],
        doc["command"],
        doc["events"],
        doc.get("processed_at", 0),  # absent in entries of older versions
    )


class MongoJournalRepository:
    """The JournalRepository on MongoDB."""

    def __init__(self, journal: AsyncCollection[Doc], marks: AsyncCollection[Doc]) -> None:
        self._journal = journal
        self._marks = marks

    async def append(self, entries: Sequence[JournalEntry]) -> list[JournalEntry]:
        if not entries:
            return []
        symbol = check_batch(entries)
        command_ids = [entry.command_id for entry in entries]
        found = await with_retry(
            partial(
                find_list,
                self._journal,
                {"symbol": symbol, "command_id": {"$in": command_ids}},
                [("first_seq", 1)],
                0,
            )
        )
        stored = {doc["command_id"]: _entry(doc) for doc in found}
        fresh: list[JournalEntry] = []
        conflict: JournalConflict | None = None
        last = await self.last_seq(symbol)
        for entry in entries:
            if entry.command_id in stored:
                continue
            try:
                check_next(entry, last)
            except JournalConflict as error:
                conflict = error  # keep the entries before it, then report
                break
            fresh.append(entry)
            last = entry.last_seq
        stored.update(await self._insert(fresh))
        if conflict is not None:
            raise conflict
        return [stored[command_id] for command_id in command_ids]

    async def _insert(self, entries: list[JournalEntry]) -> dict[str, JournalEntry]:
        """Insert in order; a duplicate command (a concurrent or throttled-then-retried
        insert got there first) counts as stored, a duplicate seq is a JournalConflict."""
        stored: dict[str, JournalEntry] = {}
        done = 0
        while done < len(entries):
            docs = [_doc(entry) for entry in entries[done:]]
            try:
                await with_retry(partial(self._journal.insert_many, docs, ordered=True))
            except BulkWriteError as error:
                failed = done + error.details["nInserted"]
                stored.update((e.command_id, e) for e in entries[done:failed])
                if error.details["writeErrors"][0]["code"] != DUPLICATE_KEY:
                    raise
                entry = entries[failed]
                existing = await self.find_by_command(entry.symbol, entry.command_id)
                if existing is None:
                    raise JournalConflict(
                        f"{entry.symbol}: seq {entry.first_seq} is journaled for another command"
                    ) from None
                stored[entry.command_id] = existing
                done = failed + 1
            else:
                stored.update((e.command_id, e) for e in entries[done:])
                done = len(entries)
        return stored

    async def read_from(self, symbol: str, seq: int) -> AsyncIterator[JournalEntry]:
        while True:
            query = {"symbol": symbol, "last_seq": {"$gte": seq}}
            docs = await with_retry(
                partial(find_list, self._journal, query, [("last_seq", 1)], READ_PAGE)
            )
            for doc in docs:
                yield _entry(doc)
            if len(docs) < READ_PAGE:
                return
            seq = docs[-1]["last_seq"] + 1

    async def entries_at(self, symbol: str, seqs: Sequence[int]) -> list[JournalEntry]:
        found: list[JournalEntry] = []
        for seq in sorted(set(seqs)):
            if found and found[-1].last_seq >= seq:
                continue  # in the entry found for an earlier seq
            query = {"symbol": symbol, "last_seq": {"$gte": seq}}
            docs = await with_retry(partial(find_list, self._journal, query, [("last_seq", 1)], 1))
            if docs and docs[0]["first_seq"] <= seq:
                found.append(_entry(docs[0]))
        return found

    async def find_by_command(self, symbol: str, command_id: str) -> JournalEntry | None:
        query = {"symbol": symbol, "command_id": command_id}
        doc = await with_retry(partial(self._journal.find_one, query))
        return None if doc is None else _entry(doc)

    async def last_seq(self, symbol: str) -> int:
        docs = await with_retry(
            partial(find_list, self._journal, {"symbol": symbol}, [("last_seq", -1)], 1)
        )
        return int(docs[0]["last_seq"]) if docs else 0

    async def _raise_mark(self, symbol: str, name: str, seq: int) -> None:
        update = {"$max": {name: seq}}
        query = {"_id": symbol, "symbol": symbol}
        for _ in range(2):  # two first upserts racing: the loser retries as an update
            try:
                await with_retry(partial(self._marks.update_one, query, update, upsert=True))
                return
            except DuplicateKeyError:
                continue

    async def _mark(self, symbol: str, name: str) -> int:
        doc = await with_retry(partial(self._marks.find_one, {"_id": symbol, "symbol": symbol}))
        return 0 if doc is None else int(doc.get(name, 0))

    async def mark_published(self, symbol: str, seq: int) -> None:
        await self._raise_mark(symbol, "published_seq", seq)

    async def published_seq(self, symbol: str) -> int:
        return await self._mark(symbol, "published_seq")

    async def mark_projected(self, symbol: str, seq: int) -> None:
        await self._raise_mark(symbol, "projected_seq", seq)

    async def projected_seq(self, symbol: str) -> int:
        return await self._mark(symbol, "projected_seq")
