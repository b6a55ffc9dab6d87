"""Venues on SQLite: one JSON document per venue, one per venue's connection record."""

from __future__ import annotations

import sqlite3

import orjson

from shared.adapters.sqlite.database import SqliteDatabase
from shared.ports.store_codec_venues import (
    connection_from_doc,
    connection_to_doc,
    venue_from_doc,
    venue_to_doc,
)
from shared.ports.store_errors import DuplicateVenue
from shared.ports.store_venues import VenueConnection, VenueDefinition


class SqliteVenueRepository:
    """The VenueRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def create(self, venue: VenueDefinition) -> None:
        try:
            await self._db.write_one(
                "INSERT INTO venues (name, doc) VALUES (?, ?)",
                (venue.name, orjson.dumps(venue_to_doc(venue))),
            )
        except sqlite3.IntegrityError:
            raise DuplicateVenue(venue.name) from None

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
