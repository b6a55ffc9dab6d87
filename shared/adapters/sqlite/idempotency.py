"""Idempotency records on SQLite, keyed by (account_id, key)."""

from __future__ import annotations

import sqlite3
import time

from shared.adapters.sqlite.database import SqliteDatabase
from shared.ports.store_idempotency import IdempotencyRecord

_COLUMNS = "account_id, key, request_hash, status_code, body, created_at"
_INSERT = (
    f"INSERT INTO idempotency ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (account_id, key) DO NOTHING"
)


def claim_key(
    conn: sqlite3.Connection, account_id: str, key: str, holder: bytes, created_at: int
) -> bytes:
    """Inside a write: record `key` as held by `holder` unless it is held already; returns
    the holder stored (ours, or the earlier one)."""
    if conn.execute(_INSERT, (account_id, key, "", 0, holder, created_at)).rowcount == 1:
        return holder
    row = conn.execute(
        "SELECT body FROM idempotency WHERE account_id = ? AND key = ?", (account_id, key)
    ).fetchone()
    return bytes(row[0])


class SqliteIdempotencyRepository:
    """The IdempotencyRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def put_if_absent(
        self,
        account_id: str,
        key: str,
        request_hash: str,
        status_code: int,
        body: bytes,
        created_at: int | None = None,
    ) -> IdempotencyRecord:
        record = IdempotencyRecord(
            account_id,
            key,
            request_hash,
            status_code,
            bytes(body),
            time.time_ns() if created_at is None else created_at,
        )
        row = (account_id, key, request_hash, status_code, record.body, record.created_at)
        cursor = await self._db.write_one(_INSERT, row)
        if cursor.rowcount == 1:
            return record
        stored = await self.get(account_id, key)
        assert stored is not None  # the conflicting row exists: rows are never deleted
        return stored

    async def get(self, account_id: str, key: str) -> IdempotencyRecord | None:
        row = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM idempotency WHERE account_id = ? AND key = ?",
            (account_id, key),
        ).fetchone()
        if row is None:
            return None
        return IdempotencyRecord(row[0], row[1], row[2], row[3], bytes(row[4]), row[5])
