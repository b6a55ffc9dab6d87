"""Risk ledgers on SQLite: one JSON document per account, changed inside a write.

`apply_change` runs on the writer connection inside the caller's write, so a placement's
ledger change and its order are one transaction: the rule sees the ledger as the open group
left it (concurrent placements of the group included) and nothing of either is written if
the rule refuses or the order's insert fails.
"""

from __future__ import annotations

import sqlite3

import orjson

from shared.adapters.sqlite.database import SqliteDatabase
from shared.adapters.sqlite.decoded import DecodedDocs
from shared.ports.store_codec import risk_ledger_from_doc, risk_ledger_to_doc
from shared.ports.store_errors import VersionConflict
from shared.ports.store_risk import LedgerChange, RiskLedger

_GET = "SELECT doc FROM risk_ledgers WHERE account_id = ?"
# A ledger is read back right after it is written, by the next placement of its account:
# the writer remembers what its bytes decode to.
_decoded = DecodedDocs[RiskLedger](lambda raw: risk_ledger_from_doc(orjson.loads(raw)), 1024)


def _read(conn: sqlite3.Connection, account_id: str) -> RiskLedger | None:
    row = conn.execute(_GET, (account_id,)).fetchone()
    return None if row is None else _decoded(row[0])


def _versioned(ledger: RiskLedger, version: int) -> RiskLedger:
    return RiskLedger(  # built directly: dataclasses.replace costs more than the rest
        ledger.account_id,
        ledger.open_orders,
        ledger.open_notional,
        ledger.day,
        ledger.day_orders,
        ledger.rate_tokens,
        ledger.rate_at,
        version,
        ledger.open_symbols,
    )


def _write(conn: sqlite3.Connection, ledger: RiskLedger, expected: int | None) -> bool:
    version = 1 if expected is None else expected + 1
    stored = _versioned(ledger, version)
    doc = orjson.dumps(risk_ledger_to_doc(stored))
    _decoded.remember(doc, stored)
    if expected is None:
        cursor = conn.execute(
            "INSERT INTO risk_ledgers (account_id, version, doc) VALUES (?, ?, ?)"
            " ON CONFLICT (account_id) DO NOTHING",
            (ledger.account_id, version, doc),
        )
    else:
        cursor = conn.execute(
            "UPDATE risk_ledgers SET version = ?, doc = ? WHERE account_id = ? AND version = ?",
            (version, doc, ledger.account_id, expected),
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
    return _versioned(new, 1 if expected is None else expected + 1)


def apply_changes(conn: sqlite3.Connection, changes: list[LedgerChange]) -> None:
    """Inside a write: `apply_change` of each, one read and one write per account (its
    changes' rules one after the other, in order)."""
    by_account: dict[str, list[LedgerChange]] = {}
    for change in changes:
        by_account.setdefault(change.account_id, []).append(change)
    for account_id, own in by_account.items():
        if len(own) == 1:
            apply_change(conn, own[0])
            continue
        stored = _read(conn, account_id)
        current = stored if stored is not None else own[0].fresh
        if current is None:
            continue
        for change in own:
            current = change.rule(current)
        _write(conn, current, None if stored is None else stored.version)


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
        return _versioned(ledger, 1 if expected_version is None else expected_version + 1)
