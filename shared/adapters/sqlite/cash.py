"""The cash ledger on SQLite: one row per entry, keyed by (account_id, seq)."""

from __future__ import annotations

import sqlite3
from typing import Any

from shared.adapters.sqlite.database import SqliteDatabase
from shared.adapters.sqlite.paging import add_time_window
from shared.ports.store_cash import CashEntry, LedgerConflict
from shared.ports.store_paging import DEFAULT_PAGE_SIZE, Page, clamp_limit, encode_cursor

_FIELDS = ("account_id", "entry_id", "seq", "kind", "amount", "balance", "at", "actor", "note")
_COLUMNS = ", ".join(_FIELDS)
_INSERT = f"INSERT INTO cash_ledger ({_COLUMNS}) VALUES ({', '.join('?' * len(_FIELDS))})"


def _entry(row: tuple[Any, ...]) -> CashEntry:
    return CashEntry(*row)


class SqliteCashLedgerRepository:
    """The CashLedgerRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def append(self, entry: CashEntry) -> CashEntry:
        def insert(conn: sqlite3.Connection) -> CashEntry:
            found = conn.execute(
                f"SELECT {_COLUMNS} FROM cash_ledger WHERE account_id = ? AND entry_id = ?",
                (entry.account_id, entry.entry_id),
            ).fetchone()
            if found is not None:
                return _entry(found)
            try:
                conn.execute(_INSERT, tuple(getattr(entry, name) for name in _FIELDS))
            except sqlite3.IntegrityError:
                raise LedgerConflict(f"{entry.account_id}: entry {entry.seq} is taken") from None
            return entry

        return await self._db.write(insert)

    async def last(self, account_id: str) -> CashEntry | None:
        row = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM cash_ledger WHERE account_id = ? ORDER BY seq DESC LIMIT 1",
            (account_id,),
        ).fetchone()
        return None if row is None else _entry(row)

    async def get(self, account_id: str, entry_id: str) -> CashEntry | None:
        row = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM cash_ledger WHERE account_id = ? AND entry_id = ?",
            (account_id, entry_id),
        ).fetchone()
        return None if row is None else _entry(row)

    async def list_entries(
        self, account_id: str, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[CashEntry]:
        limit = clamp_limit(limit)
        where: list[str] = ["account_id = ?"]
        args: list[object] = [account_id]
        add_time_window(where, args, "seq", "entry_id", None, None, cursor)
        rows = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM cash_ledger WHERE {' AND '.join(where)}"
            " ORDER BY seq DESC LIMIT ?",
            (*args, limit + 1),
        ).fetchall()
        items = [_entry(row) for row in rows[:limit]]
        last = items[-1] if len(rows) > limit else None
        return Page(items, encode_cursor(last.seq, last.entry_id) if last else None)
