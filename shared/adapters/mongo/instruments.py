"""Instruments on MongoDB: `_id` = symbol = shard key; `version` in the update filter."""

from __future__ import annotations

import dataclasses
from functools import partial

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo.query import find_list
from shared.adapters.mongo.throttle import with_retry
from shared.domain.instrument import Instrument
from shared.ports.store_codec import Doc, instrument_from_doc, instrument_to_doc
from shared.ports.store_errors import DuplicateInstrument, NotFound, VersionConflict


class MongoInstrumentRepository:
    """The InstrumentRepository on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self._instruments = collection

    async def create(self, instrument: Instrument) -> None:
        doc = {"_id": instrument.symbol, **instrument_to_doc(instrument)}
        try:
            await with_retry(partial(self._instruments.insert_one, doc))
        except DuplicateKeyError:
            raise DuplicateInstrument(instrument.symbol) from None

    async def update(self, instrument: Instrument, expected_version: int) -> Instrument:
        stored = dataclasses.replace(instrument, version=expected_version + 1)
        # A document stored before instruments had versions has none: it is version 0.
        version: object = expected_version or {"$in": [0, None]}
        query = {"_id": instrument.symbol, "symbol": instrument.symbol, "version": version}
        doc = {"_id": instrument.symbol, **instrument_to_doc(stored)}
        result = await with_retry(partial(self._instruments.replace_one, query, doc))
        if result.matched_count == 0:
            current = await self.get(instrument.symbol)
            if current is None:
                raise NotFound(f"instrument {instrument.symbol}")
            raise VersionConflict(instrument.symbol, expected_version, current.version)
        return stored

    async def get(self, symbol: str) -> Instrument | None:
        query = {"_id": symbol, "symbol": symbol}
        doc = await with_retry(partial(self._instruments.find_one, query))
        return None if doc is None else instrument_from_doc(doc)

    async def list_instruments(self) -> list[Instrument]:
        docs = await with_retry(partial(find_list, self._instruments, {}, [("_id", 1)], 0))
        return [instrument_from_doc(doc) for doc in docs]
