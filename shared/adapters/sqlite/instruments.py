"""Instruments on SQLite: one JSON document per symbol."""

from __future__ import annotations

import orjson

from shared.adapters.sqlite.database import SqliteDatabase
from shared.adapters.sqlite.decoded import DecodedDocs
from shared.domain.instrument import Instrument
from shared.ports.store_codec import instrument_from_doc, instrument_to_doc


class SqliteInstrumentRepository:
    """The InstrumentRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._decoded = DecodedDocs[Instrument](lambda raw: instrument_from_doc(orjson.loads(raw)))

    async def upsert(self, instrument: Instrument) -> None:
        row = (instrument.symbol, orjson.dumps(instrument_to_doc(instrument)))
        await self._db.write_one(
            "INSERT INTO instruments (symbol, doc) VALUES (?, ?)"
            " ON CONFLICT (symbol) DO UPDATE SET doc = excluded.doc",
            row,
        )

    async def get(self, symbol: str) -> Instrument | None:
        row = self._db.reader.execute(
            "SELECT doc FROM instruments WHERE symbol = ?", (symbol,)
        ).fetchone()
        return None if row is None else self._decoded(row[0])

    async def list_instruments(self) -> list[Instrument]:
        rows = self._db.reader.execute("SELECT doc FROM instruments ORDER BY symbol").fetchall()
        return [self._decoded(row[0]) for row in rows]
