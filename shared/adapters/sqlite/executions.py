"""Executions on SQLite: one row per execution id."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from shared.adapters.sqlite.database import SqliteDatabase
from shared.adapters.sqlite.paging import add_time_window
from shared.domain.ids import trade_execution_ids
from shared.ports.store_codec import execution_from_doc, execution_to_doc, one_row_per_trade
from shared.ports.store_executions import Execution
from shared.ports.store_paging import (
    DEFAULT_PAGE_SIZE,
    Page,
    clamp_limit,
    encode_cursor,
)

_FIELDS = (
    "execution_id",
    "order_id",
    "account_id",
    "symbol",
    "side",
    "quantity",
    "price",
    "liquidity",
    "fee",
    "trade_id",
    "executed_at",
    "settle_day",
    "settled_at",
)
_COLUMNS = ", ".join(_FIELDS)
_INSERT = (
    f"INSERT INTO executions ({_COLUMNS}) VALUES ({', '.join('?' * len(_FIELDS))})"
    " ON CONFLICT (execution_id) DO NOTHING"
)


def _row(execution: Execution) -> tuple[Any, ...]:
    doc = execution_to_doc(execution)
    return tuple(doc[name] for name in _FIELDS)


def _execution(row: tuple[Any, ...]) -> Execution:
    return execution_from_doc(dict(zip(_FIELDS, row, strict=True)))


class SqliteExecutionRepository:
    """The ExecutionRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def append(self, execution: Execution) -> bool:
        cursor = await self._db.write_one(_INSERT, _row(execution))
        return cursor.rowcount == 1

    async def append_all(self, executions: Sequence[Execution]) -> list[bool]:
        rows = [_row(execution) for execution in executions]

        def insert(conn: sqlite3.Connection) -> list[bool]:
            return [conn.execute(_INSERT, row).rowcount == 1 for row in rows]

        return await self._db.write(insert)

    async def get(self, account_id: str, execution_id: str) -> Execution | None:
        row = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM executions WHERE execution_id = ? AND account_id = ?",
            (execution_id, account_id),
        ).fetchone()
        return None if row is None else _execution(row)

    async def list_by_order(self, account_id: str, order_id: str) -> list[Execution]:
        rows = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM executions WHERE account_id = ? AND order_id = ?"
            " ORDER BY executed_at, execution_id",
            (account_id, order_id),
        ).fetchall()
        return [_execution(row) for row in rows]

    async def list_by_account(
        self,
        account_id: str,
        *,
        symbol: str | None = None,
        since: int | None = None,
        until: int | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[Execution]:
        limit = clamp_limit(limit)
        where: list[str] = ["account_id = ?"]
        args: list[object] = [account_id]
        if symbol is not None:
            where.append("symbol = ?")
            args.append(symbol)
        add_time_window(where, args, "executed_at", "execution_id", since, until, cursor)
        rows = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM executions WHERE {' AND '.join(where)}"
            " ORDER BY executed_at DESC, execution_id DESC LIMIT ?",
            (*args, limit + 1),
        ).fetchall()
        items = [_execution(row) for row in rows[:limit]]
        last = items[-1] if len(rows) > limit else None
        return Page(items, encode_cursor(last.executed_at, last.execution_id) if last else None)

    async def list_by_trade(self, trade_id: str) -> list[Execution]:
        ids = trade_execution_ids(trade_id)
        if ids is None:
            return []
        rows = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM executions WHERE execution_id IN (?, ?) AND trade_id = ?"
            " ORDER BY execution_id",
            (*ids, trade_id),
        ).fetchall()
        return [_execution(row) for row in rows]

    async def list_trades(self, symbol: str, limit: int = DEFAULT_PAGE_SIZE) -> list[Execution]:
        limit = clamp_limit(limit)
        # A trade has at most two rows (maker and taker) sharing its timestamp.
        rows = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM executions WHERE symbol = ? AND trade_id != ''"
            " ORDER BY executed_at DESC, execution_id DESC LIMIT ?",
            (symbol, 2 * limit),
        ).fetchall()
        return one_row_per_trade([_execution(row) for row in rows], limit)

    async def list_trades_between(
        self,
        symbol: str,
        *,
        since: int | None = None,
        until: int | None = None,
        after: tuple[int, str] | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> list[Execution]:
        where = ["symbol = ?", "trade_id != ''", "liquidity = 'maker'"]
        args: list[object] = [symbol]
        if since is not None:
            where.append("executed_at >= ?")
            args.append(since)
        if until is not None:
            where.append("executed_at < ?")
            args.append(until)
        if after is not None:
            where.append("(executed_at, execution_id) > (?, ?)")
            args.extend(after)
        rows = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM executions WHERE {' AND '.join(where)}"
            " ORDER BY executed_at, execution_id LIMIT ?",
            (*args, clamp_limit(limit)),
        ).fetchall()
        return [_execution(row) for row in rows]
