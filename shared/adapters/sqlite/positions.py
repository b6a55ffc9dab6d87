"""Positions on SQLite: counters per (account, symbol) and the set of applied fills.

The fill's id and the counter change commit in one transaction, so a fill counts once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from shared.adapters.sqlite.database import SqliteDatabase
from shared.ports.store_codec import POSITION_COUNTERS, fill_increments, position_from_doc
from shared.ports.store_executions import Execution
from shared.ports.store_positions import Position

_FIELDS = ("account_id", "symbol", *POSITION_COUNTERS, "updated_at")
_COLUMNS = ", ".join(_FIELDS)
_UPSERT = (
    f"INSERT INTO positions ({_COLUMNS}) VALUES ({', '.join('?' * len(_FIELDS))})"
    " ON CONFLICT (account_id, symbol) DO UPDATE SET "
    + ", ".join(f"{name} = {name} + excluded.{name}" for name in POSITION_COUNTERS)
    + ", updated_at = MAX(updated_at, excluded.updated_at)"
)


def _position(row: tuple[Any, ...]) -> Position:
    return position_from_doc(dict(zip(_FIELDS, row, strict=True)))


def _apply_fill(conn: sqlite3.Connection, execution: Execution) -> bool:
    """Inside a write: add the fill to its position unless its execution id was applied."""
    cursor = conn.execute(
        "INSERT INTO position_fills (execution_id, account_id) VALUES (?, ?)"
        " ON CONFLICT (execution_id) DO NOTHING",
        (execution.execution_id, execution.account_id),
    )
    if cursor.rowcount == 0:
        return False
    moves = fill_increments(execution)
    conn.execute(
        _UPSERT,
        (
            execution.account_id,
            execution.symbol,
            *(moves[name] for name in POSITION_COUNTERS),
            execution.executed_at,
        ),
    )
    return True


class SqlitePositionRepository:
    """The PositionRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def apply_fill(self, execution: Execution) -> bool:
        return (await self.apply_fills([execution]))[0]

    async def apply_fills(self, executions: Sequence[Execution]) -> list[bool]:
        def apply(conn: sqlite3.Connection) -> list[bool]:
            return [_apply_fill(conn, execution) for execution in executions]

        return await self._db.write(apply)

    async def get(self, account_id: str, symbol: str) -> Position | None:
        row = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM positions WHERE account_id = ? AND symbol = ?",
            (account_id, symbol),
        ).fetchone()
        return None if row is None else _position(row)

    async def list_positions(self, account_id: str) -> list[Position]:
        rows = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM positions WHERE account_id = ? ORDER BY symbol",
            (account_id,),
        ).fetchall()
        return [_position(row) for row in rows]
