"""Venues on SQLite: one JSON document per venue (its version in a column too), one per
venue's connection record, one per FIX session's state."""

from __future__ import annotations

import dataclasses
import sqlite3

import orjson

from shared.adapters.sqlite.database import SqliteDatabase
from shared.ports.store_codec_venues import (
    connection_from_doc,
    connection_to_doc,
    session_state_from_doc,
    session_state_to_doc,
    venue_from_doc,
    venue_to_doc,
)
from shared.ports.store_errors import DuplicateVenue, NotFound, VersionConflict
from shared.ports.store_venues import FixSessionState, VenueConnection, VenueDefinition


class SqliteVenueRepository:
    """The VenueRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def create(self, venue: VenueDefinition) -> None:
        try:
            await self._db.write_one(
                "INSERT INTO venues (name, doc, version) VALUES (?, ?, ?)",
                (venue.name, orjson.dumps(venue_to_doc(venue)), venue.version),
            )
        except sqlite3.IntegrityError:
            raise DuplicateVenue(venue.name) from None

    async def _conflict(self, name: str, expected_version: int) -> Exception:
        current = await self.get(name)
        if current is None:
            return NotFound(f"venue {name}")
        return VersionConflict(name, expected_version, current.version)

    async def update(self, venue: VenueDefinition, expected_version: int) -> VenueDefinition:
        stored = dataclasses.replace(venue, version=expected_version + 1)
        cursor = await self._db.write_one(
            "UPDATE venues SET doc = ?, version = ? WHERE name = ? AND version = ?",
            (orjson.dumps(venue_to_doc(stored)), stored.version, venue.name, expected_version),
        )
        if cursor.rowcount == 0:
            raise await self._conflict(venue.name, expected_version)
        return stored

    async def delete(self, name: str, expected_version: int) -> None:
        def statements(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "DELETE FROM venues WHERE name = ? AND version = ?", (name, expected_version)
            )
            if cursor.rowcount:
                conn.execute("DELETE FROM venue_connections WHERE name = ?", (name,))
            return cursor.rowcount

        if not await self._db.write(statements):
            raise await self._conflict(name, expected_version)

    async def get(self, name: str) -> VenueDefinition | None:
        row = self._db.reader.execute("SELECT doc FROM venues WHERE name = ?", (name,)).fetchone()
        return None if row is None else venue_from_doc(orjson.loads(row[0]))

    async def list_venues(self) -> list[VenueDefinition]:
        rows = self._db.reader.execute("SELECT doc FROM venues ORDER BY name").fetchall()
        return [venue_from_doc(orjson.loads(row[0])) for row in rows]

    async def put_connection(self, connection: VenueConnection) -> None:
        await self._db.write_one(
            "INSERT INTO venue_connections (name, doc) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET doc = excluded.doc",
            (connection.name, orjson.dumps(connection_to_doc(connection))),
        )

    async def connections(self) -> list[VenueConnection]:
        rows = self._db.reader.execute("SELECT doc FROM venue_connections ORDER BY name").fetchall()
        return [connection_from_doc(orjson.loads(row[0])) for row in rows]

    async def session_state(self, key: str) -> FixSessionState | None:
        row = self._db.reader.execute(
            "SELECT doc FROM venue_sessions WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else session_state_from_doc(orjson.loads(row[0]))

    async def save_session_state(
        self, state: FixSessionState, expected_version: int
    ) -> FixSessionState:
        stored = dataclasses.replace(state, version=expected_version + 1)
        doc = orjson.dumps(session_state_to_doc(stored))
        if expected_version == 0:
            try:
                await self._db.write_one(
                    "INSERT INTO venue_sessions (key, doc, version) VALUES (?, ?, ?)",
                    (state.key, doc, stored.version),
                )
                return stored
            except sqlite3.IntegrityError:
                current = await self.session_state(state.key)
                raise VersionConflict(state.key, 0, current.version if current else 0) from None
        cursor = await self._db.write_one(
            "UPDATE venue_sessions SET doc = ?, version = ? WHERE key = ? AND version = ?",
            (doc, stored.version, state.key, expected_version),
        )
        if cursor.rowcount == 0:
            current = await self.session_state(state.key)
            raise VersionConflict(state.key, expected_version, current.version if current else 0)
        return stored
