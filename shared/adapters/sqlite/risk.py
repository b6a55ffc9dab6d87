"""Risk ledgers on SQLite: one JSON document per account, changed inside a write.

`apply_change` runs on the writer connection inside the caller's write, so a placement's
ledger change and its order are one transaction: the rule sees the ledger as the open group
left it (concurrent placements of the group included) and nothing of either is written if
the rule refuses or the order's insert fails.
"""

from __future__ import annotations

import dataclasses
import sqlite3

import orjson

from shared.adapters.sqlite.database import SqliteDatabase
from shared.ports.store_codec import risk_ledger_from_doc, risk_ledger_to_doc
from shared.ports.store_errors import VersionConflict
from shared.ports.store_risk import LedgerChange, RiskLedger

_GET = "SELECT doc FROM risk_ledgers WHERE account_id = ?"


def _read(conn: sqlite3.Connection, account_id: str) -> RiskLedger | None:
    row = conn.execute(_GET, (account_id,)).fetchone()
    return None if row is None else risk_ledger_from_doc(orjson.loads(row[0]))


def _write(conn: sqlite3.Connection, ledger: RiskLedger, expected: int | None) -> bool:
    stored = dataclasses.replace(ledger, version=1 if expected is None else expected + 1)
    doc = orjson.dumps(risk_ledger_to_doc(stored))
    if expected is None:
        cursor = conn.execute(
            "INSERT INTO risk_ledgers (account_id, version, doc) VALUES (?, ?, ?)"
            " ON CONFLICT (account_id) DO NOTHING",
            (ledger.account_id, stored.version, doc),
        )
    else:
        cursor = conn.execute(
            "UPDATE risk_ledgers SET version = ?, doc = ? WHERE account_id = ? AND version = ?",
            (stored.version, doc, ledger.account_id, expected),
        )
    return cursor.rowcount == 1


def apply_change(conn: sqlite3.Connection, change: LedgerChange) -> RiskLedger | None:
    """Inside a write: the stored ledger (or `change.fresh`) through `change.rule`, written."""
    stored = _read(conn, change.account_id)
    current = stored if stored is not None else change.fresh
    if current is None:
        return None
    new = change.rule(current)
    expected = None if stored is None else stored.version
    _write(conn, new, expected)  # the writer connection: nobody can have changed it meanwhile
    return dataclasses.replace(new, version=1 if expected is None else expected + 1)


class SqliteRiskLedgerRepository:
    """The RiskLedgerRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get(self, account_id: str) -> RiskLedger | None:
        return _read(self._db.reader, account_id)

    async def change(self, change: LedgerChange) -> RiskLedger | None:
        return await self._db.write(lambda conn: apply_change(conn, change))

    async def put(self, ledger: RiskLedger, expected_version: int | None) -> RiskLedger:
        def put(conn: sqlite3.Connection) -> bool:
            return _write(conn, ledger, expected_version)

        if not await self._db.write(put, one_change=True):
            current = await self.get(ledger.account_id)
            raise VersionConflict(
                ledger.account_id,
                -1 if expected_version is None else expected_version,
                -1 if current is None else current.version,
            )
        return dataclasses.replace(
            ledger, version=1 if expected_version is None else expected_version + 1
        )
