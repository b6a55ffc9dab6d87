"""Feed-stream positions on SQLite: one row per stream, advanced by one upsert."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from shared.adapters.sqlite.database import SqliteDatabase
from shared.ports.store_feeds import FeedPosition, new_epoch

_ADVANCE = (
    "INSERT INTO feed_streams (stream, epoch, seq) VALUES (?, ?, ?)"
    " ON CONFLICT (stream) DO UPDATE SET seq = seq + excluded.seq RETURNING epoch, seq"
)


class SqliteFeedStreamRepository:
    """The FeedStreamRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def advance(self, stream: str, count: int) -> FeedPosition:
        params = (stream, new_epoch(), count)
        epoch, seq = await self._db.write(
            lambda conn: conn.execute(_ADVANCE, params).fetchone(), one_change=True
        )
        return FeedPosition(str(epoch), int(seq))

    async def advance_all(self, counts: Sequence[tuple[str, int]]) -> list[FeedPosition]:
        params = [(stream, new_epoch(), count) for stream, count in counts]

        def advance(conn: sqlite3.Connection) -> list[FeedPosition]:
            rows = [conn.execute(_ADVANCE, one).fetchone() for one in params]
            return [FeedPosition(str(epoch), int(seq)) for epoch, seq in rows]

        return await self._db.write(advance) if params else []

    async def position(self, stream: str) -> FeedPosition | None:
        row = self._db.reader.execute(
            "SELECT epoch, seq FROM feed_streams WHERE stream = ?", (stream,)
        ).fetchone()
        return None if row is None else FeedPosition(str(row[0]), int(row[1]))
