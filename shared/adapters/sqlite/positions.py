"""Positions on SQLite: one row per (account, symbol), and the set of applied fills.

A batch's fills run in one write: each fill's id is claimed in `position_fills` (a fill
claimed before is skipped), its position is read once per batch from the open transaction
and moved through `after_fill` in order, and each moved position is written back once. The
claims and the positions commit together, so a fill counts once.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from shared.adapters.sqlite.database import SqliteDatabase
from shared.domain.positions import Position, after_fill, fill_flow, settled_early
from shared.ports.store_codec import fill_of
from shared.ports.store_executions import Execution

# The dataclass's field order, so a row builds a Position positionally.
_FIELDS = tuple(f.name for f in dataclasses.fields(Position))
_COLUMNS = ", ".join(_FIELDS)
_SELECT = f"SELECT {_COLUMNS} FROM positions WHERE account_id = ? AND symbol = ?"
_INSERT = f"INSERT INTO positions ({_COLUMNS}) VALUES ({', '.join('?' * len(_FIELDS))})"
_UPDATE = (
    "UPDATE positions SET "
    + ", ".join(f"{name} = ?" for name in _FIELDS[2:])
    + " WHERE account_id = ? AND symbol = ?"
)
_CLAIM = (
    "INSERT INTO position_fills (execution_id, account_id) VALUES (?, ?)"
    " ON CONFLICT (execution_id) DO NOTHING"
)

Key = tuple[str, str]


_NO_BUCKETS = "[]"


def _position(row: tuple[Any, ...]) -> Position:
    """A row in `_FIELDS` order (the dataclass's, with `unsettled` as JSON text)."""
    unsettled = row[15]
    buckets = (
        () if unsettled == _NO_BUCKETS else tuple((d, f, c) for d, f, c in orjson.loads(unsettled))
    )
    a, s, net, bq, sq, bn, sn, fees, at, cost, realized, day, start, flow, day_fees = row[:15]
    return Position(
        a, s, net, bq, sq, bn, sn, fees, at, cost, realized, day, start, flow, day_fees, buckets
    )


def _row(p: Position) -> tuple[Any, ...]:
    unsettled = orjson.dumps(p.unsettled).decode() if p.unsettled else _NO_BUCKETS
    return (
        p.account_id,
        p.symbol,
        p.net_quantity,
        p.bought_quantity,
        p.sold_quantity,
        p.bought_notional,
        p.sold_notional,
        p.fees,
        p.updated_at,
        p.cost,
        p.realized,
        p.day,
        p.day_start_quantity,
        p.day_flow,
        p.day_fees,
        unsettled,
    )


def _load(
    conn: sqlite3.Connection, moved: dict[Key, Position], key: Key, new: set[Key]
) -> Position:
    """The position as the open transaction has it (`new`: keys with no row yet)."""
    position = moved.get(key)
    if position is None:
        row = conn.execute(_SELECT, key).fetchone()
        if row is None:
            new.add(key)
            return Position(*key)
        position = _position(row)
    return position


def _write(conn: sqlite3.Connection, moved: dict[Key, Position], new: set[Key]) -> None:
    """Insert the new rows, update the others in place (no delete and insert)."""
    conn.executemany(_INSERT, [_row(p) for key, p in moved.items() if key in new])
    conn.executemany(_UPDATE, [(*_row(p)[2:], *key) for key, p in moved.items() if key not in new])


class SqlitePositionRepository:
    """The PositionRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def apply_fill(self, execution: Execution) -> bool:
        return (await self.apply_fills([execution]))[0]

    async def apply_fills(self, executions: Sequence[Execution]) -> list[bool]:
        def apply(conn: sqlite3.Connection) -> list[bool]:
            applied: list[bool] = []
            moved: dict[Key, Position] = {}
            new: set[Key] = set()
            for execution in executions:
                claimed = conn.execute(
                    _CLAIM, (execution.execution_id, execution.account_id)
                ).rowcount
                applied.append(claimed == 1)
                if claimed:
                    key = (execution.account_id, execution.symbol)
                    moved[key] = after_fill(_load(conn, moved, key, new), fill_of(execution))
            _write(conn, moved, new)
            return applied

        return await self._db.write(apply)

    async def settle(self, execution: Execution, at: int) -> bool:
        fill = fill_of(execution)
        flow = fill_flow(fill.is_buy, fill.quantity, fill.price)

        def settle(conn: sqlite3.Connection) -> bool:
            claimed = conn.execute(
                "UPDATE position_fills SET settled_at = ? WHERE execution_id = ?"
                " AND account_id = ? AND settled_at = 0",
                (at, execution.execution_id, execution.account_id),
            ).rowcount
            if not claimed:
                return False
            key = (execution.account_id, execution.symbol)
            new: set[Key] = set()
            position = settled_early(_load(conn, {}, key, new), fill.settle_day, flow, fill.fee)
            _write(conn, {key: position}, new)
            conn.execute(
                "UPDATE executions SET settled_at = ? WHERE execution_id = ? AND account_id = ?",
                (at, execution.execution_id, execution.account_id),
            )
            return True

        return await self._db.write(settle)

    async def get(self, account_id: str, symbol: str) -> Position | None:
        row = self._db.reader.execute(_SELECT, (account_id, symbol)).fetchone()
        return None if row is None else _position(row)

    async def list_positions(self, account_id: str) -> list[Position]:
        rows = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM positions WHERE account_id = ? ORDER BY symbol",
            (account_id,),
        ).fetchall()
        return [_position(row) for row in rows]
