"""Order history on SQLite: events keyed by (order_id, seq), activity by order_id.

One write stores a batch's events and merges its activity: the state (the JSON document)
is replaced only by one at least as far along (`order_seq`), the times merge in the
statement itself (earliest acceptance and first fill, latest completion; 0 = unknown).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from shared.adapters.sqlite.database import SqliteDatabase
from shared.adapters.sqlite.paging import add_time_window
from shared.ports.store_codec import activity_from_doc, activity_to_doc
from shared.ports.store_order_events import OrderActivity, StoredEvent
from shared.ports.store_paging import DEFAULT_PAGE_SIZE, Page, clamp_limit, encode_cursor

_INSERT_EVENT = (
    "INSERT INTO order_events (order_id, seq, account_id, order_seq, processed_at, event)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id, seq) DO NOTHING"
)


def _earliest(column: str) -> str:
    return (
        f"{column} = CASE WHEN {column} = 0 THEN excluded.{column}"
        f" WHEN excluded.{column} = 0 THEN {column}"
        f" ELSE MIN({column}, excluded.{column}) END"
    )


_MERGE_ACTIVITY = (
    "INSERT INTO order_activity (order_id, account_id, symbol, created_at, order_seq,"
    " accepted_at, first_fill_at, completed_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (order_id) DO UPDATE SET"
    " doc = CASE WHEN excluded.order_seq >= order_seq THEN excluded.doc ELSE doc END,"
    " order_seq = MAX(order_seq, excluded.order_seq), "
    + _earliest("accepted_at")
    + ", "
    + _earliest("first_fill_at")
    + ", completed_at = MAX(completed_at, excluded.completed_at)"
)
_ACTIVITY_COLUMNS = "accepted_at, first_fill_at, completed_at, doc"


def _activity(row: tuple[Any, ...]) -> OrderActivity:
    doc = orjson.loads(row[3])
    doc.update(accepted_at=row[0], first_fill_at=row[1], completed_at=row[2])
    return activity_from_doc(doc)


def _event(row: tuple[Any, ...]) -> StoredEvent:
    event = orjson.loads(row[5])
    return StoredEvent(row[0], row[1], str(event["symbol"]), row[2], row[3], row[4], event)


class SqliteOrderEventRepository:
    """The OrderEventRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def record(
        self, events: Sequence[StoredEvent], activity: Sequence[OrderActivity]
    ) -> None:
        if not events and not activity:
            return
        event_rows = [
            (e.order_id, e.seq, e.account_id, e.order_seq, e.processed_at, orjson.dumps(e.event))
            for e in events
        ]
        activity_rows = [
            (
                a.order_id,
                a.account_id,
                a.symbol,
                a.created_at,
                a.order_seq,
                a.accepted_at,
                a.first_fill_at,
                a.completed_at,
                orjson.dumps(activity_to_doc(a)),
            )
            for a in activity
        ]

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany(_INSERT_EVENT, event_rows)
            conn.executemany(_MERGE_ACTIVITY, activity_rows)

        await self._db.write(write)

    async def list_by_order(self, account_id: str, order_id: str) -> list[StoredEvent]:
        rows = self._db.reader.execute(
            "SELECT account_id, order_id, seq, order_seq, processed_at, event FROM order_events"
            " WHERE order_id = ? AND account_id = ? ORDER BY seq",
            (order_id, account_id),
        ).fetchall()
        return [_event(row) for row in rows]

    async def get_activity(self, account_id: str, order_id: str) -> OrderActivity | None:
        row = self._db.reader.execute(
            f"SELECT {_ACTIVITY_COLUMNS} FROM order_activity WHERE order_id = ? AND account_id = ?",
            (order_id, account_id),
        ).fetchone()
        return None if row is None else _activity(row)

    async def list_activity(
        self,
        account_id: str,
        *,
        symbol: str | None = None,
        since: int | None = None,
        until: int | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[OrderActivity]:
        limit = clamp_limit(limit)
        where: list[str] = ["account_id = ?"]
        args: list[object] = [account_id]
        if symbol is not None:
            where.append("symbol = ?")
            args.append(symbol)
        add_time_window(where, args, "created_at", "order_id", since, until, cursor)
        rows = self._db.reader.execute(
            f"SELECT {_ACTIVITY_COLUMNS} FROM order_activity WHERE {' AND '.join(where)}"
            " ORDER BY created_at DESC, order_id DESC LIMIT ?",
            (*args, limit + 1),
        ).fetchall()
        items = [_activity(row) for row in rows[:limit]]
        last = items[-1] if len(rows) > limit else None
        return Page(items, encode_cursor(last.created_at, last.order_id) if last else None)
