"""The matcher's journal on SQLite: one row per command, keyed by (symbol, first_seq)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson

from shared.adapters.sqlite.database import SqliteDatabase
from shared.ports.store_errors import JournalConflict
from shared.ports.store_journal import JournalEntry, check_batch, check_next

READ_PAGE = 500
_COLUMNS = "symbol, command_id, first_seq, last_seq, command, events, processed_at"


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    return JournalEntry(
        row[0], row[1], row[2], row[3], orjson.loads(row[4]), orjson.loads(row[5]), row[6]
    )


class SqliteJournalRepository:
    """The JournalRepository on SQLite; a batch is appended in one transaction."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def append(self, entries: Sequence[JournalEntry]) -> list[JournalEntry]:
        if not entries:
            return []
        symbol = check_batch(entries)

        def append_in_order(
            conn: sqlite3.Connection,
        ) -> tuple[list[JournalEntry], JournalConflict | None]:
            stored: list[JournalEntry] = []
            last = self._last_seq(conn, symbol)
            for entry in entries:
                # An entry past the journal's end is new unless its command was journaled
                # under other seqs; the unique (symbol, command_id) index tells, so only
                # entries at or before the end (a retried append) are looked up first.
                existing = (
                    self._find(conn, symbol, entry.command_id) if entry.first_seq <= last else None
                )
                if existing is not None:
                    stored.append(existing)
                    continue
                try:
                    check_next(entry, last)
                except JournalConflict as error:
                    return stored, error  # keep the entries before it, then report
                try:
                    conn.execute(
                        f"INSERT INTO journal ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            symbol,
                            entry.command_id,
                            entry.first_seq,
                            entry.last_seq,
                            orjson.dumps(entry.command),
                            orjson.dumps(entry.events),
                            entry.processed_at,
                        ),
                    )
                except sqlite3.IntegrityError:
                    journaled = self._find(conn, symbol, entry.command_id)
                    if journaled is None:
                        raise
                    stored.append(journaled)
                    continue
                stored.append(entry)
                last = entry.last_seq
            return stored, None

        stored, conflict = await self._db.write(append_in_order)
        if conflict is not None:
            raise conflict
        return stored

    @staticmethod
    def _find(conn: sqlite3.Connection, symbol: str, command_id: str) -> JournalEntry | None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM journal WHERE symbol = ? AND command_id = ?",
            (symbol, command_id),
        ).fetchone()
        return None if row is None else _entry(row)

    @staticmethod
    def _last_seq(conn: sqlite3.Connection, symbol: str) -> int:
        row = conn.execute(
            "SELECT MAX(last_seq) FROM journal WHERE symbol = ?", (symbol,)
        ).fetchone()
        return int(row[0] or 0)

    async def read_from(self, symbol: str, seq: int) -> AsyncIterator[JournalEntry]:
        while True:
            rows = self._db.reader.execute(
                f"SELECT {_COLUMNS} FROM journal WHERE symbol = ? AND last_seq >= ?"
                " ORDER BY last_seq LIMIT ?",
                (symbol, seq, READ_PAGE),
            ).fetchall()
            for row in rows:
                yield _entry(row)
            if len(rows) < READ_PAGE:
                return
            seq = rows[-1][3] + 1

    async def entries_at(self, symbol: str, seqs: Sequence[int]) -> list[JournalEntry]:
        found: list[JournalEntry] = []
        for seq in sorted(set(seqs)):
            if found and found[-1].last_seq >= seq:
                continue  # in the entry found for an earlier seq
            row = self._db.reader.execute(
                f"SELECT {_COLUMNS} FROM journal WHERE symbol = ? AND last_seq >= ?"
                " ORDER BY last_seq LIMIT 1",
                (symbol, seq),
            ).fetchone()
            if row is not None and row[2] <= seq:
                found.append(_entry(row))
        return found

    async def find_by_command(self, symbol: str, command_id: str) -> JournalEntry | None:
        return self._find(self._db.reader, symbol, command_id)

    async def last_seq(self, symbol: str) -> int:
        return self._last_seq(self._db.reader, symbol)

    async def mark_published(self, symbol: str, seq: int) -> None:
        await self._db.write_one(
            "INSERT INTO journal_marks (symbol, published_seq) VALUES (?, ?)"
            " ON CONFLICT (symbol) DO UPDATE SET published_seq ="
            " MAX(published_seq, excluded.published_seq)",
            (symbol, seq),
        )

    async def published_seq(self, symbol: str) -> int:
        row = self._db.reader.execute(
            "SELECT published_seq FROM journal_marks WHERE symbol = ?", (symbol,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    async def mark_projected(self, symbol: str, seq: int) -> None:
        await self._db.write_one(
            "INSERT INTO journal_marks (symbol, published_seq, projected_seq) VALUES (?, 0, ?)"
            " ON CONFLICT (symbol) DO UPDATE SET projected_seq ="
            " MAX(projected_seq, excluded.projected_seq)",
            (symbol, seq),
        )

    async def projected_seq(self, symbol: str) -> int:
        row = self._db.reader.execute(
            "SELECT projected_seq FROM journal_marks WHERE symbol = ?", (symbol,)
        ).fetchone()
        return 0 if row is None else int(row[0])
