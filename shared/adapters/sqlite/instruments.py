"""Instruments on SQLite: one JSON document per symbol, its version in a column too."""

from __future__ import annotations

import dataclasses
import sqlite3

import orjson

from shared.adapters.sqlite.database import SqliteDatabase
from shared.adapters.sqlite.decoded import DecodedDocs
from shared.domain.instrument import Instrument
from shared.ports.store_codec import instrument_from_doc, instrument_to_doc
from shared.ports.store_errors import DuplicateInstrument, NotFound, VersionConflict


class SqliteInstrumentRepository:
    """The InstrumentRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._decoded = DecodedDocs[Instrument](lambda raw: instrument_from_doc(orjson.loads(raw)))

    async def create(self, instrument: Instrument) -> None:
        row = (
            instrument.symbol,
            orjson.dumps(instrument_to_doc(instrument)),
            instrument.version,
        )
        try:
            await self._db.write_one(
                "INSERT INTO instruments (symbol, doc, version) VALUES (?, ?, ?)", row
            )
        except sqlite3.IntegrityError:
            raise DuplicateInstrument(instrument.symbol) from None

    async def update(self, instrument: Instrument, expected_version: int) -> Instrument:
        stored = dataclasses.replace(instrument, version=expected_version + 1)
        params = (
            orjson.dumps(instrument_to_doc(stored)),
            stored.version,
            instrument.symbol,
            expected_version,
        )
        cursor = await self._db.write_one(
            "UPDATE instruments SET doc = ?, version = ? WHERE symbol = ? AND version = ?", params
        )
        if cursor.rowcount == 0:
            current = await self.get(instrument.symbol)
            if current is None:
                raise NotFound(f"instrument {instrument.symbol}")
            raise VersionConflict(instrument.symbol, expected_version, current.version)
        return stored

    async def get(self, symbol: str) -> Instrument | None:
        row = self._db.reader.execute(
            "SELECT doc FROM instruments WHERE symbol = ?", (symbol,)
        ).fetchone()
        return None if row is None else self._decoded(row[0])

    async def list_instruments(self) -> list[Instrument]:
        rows = self._db.reader.execute("SELECT doc FROM instruments ORDER BY symbol").fetchall()
        return [self._decoded(row[0]) for row in rows]
