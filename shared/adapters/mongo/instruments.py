"""Instruments on MongoDB: `_id` = symbol = shard key."""

from __future__ import annotations

from functools import partial

from pymongo.asynchronous.collection import AsyncCollection

from shared.adapters.mongo.query import find_list
from shared.adapters.mongo.throttle import with_retry
from shared.domain.instrument import Instrument
from shared.ports.store_codec import Doc, instrument_from_doc, instrument_to_doc


class MongoInstrumentRepository:
    """The InstrumentRepository on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self._instruments = collection

    async def upsert(self, instrument: Instrument) -> None:
        query = {"_id": instrument.symbol, "symbol": instrument.symbol}
        doc = {"_id": instrument.symbol, **instrument_to_doc(instrument)}
        await with_retry(partial(self._instruments.replace_one, query, doc, upsert=True))

    async def get(self, symbol: str) -> Instrument | None:
        query = {"_id": symbol, "symbol": symbol}
        doc = await with_retry(partial(self._instruments.find_one, query))
        return None if doc is None else instrument_from_doc(doc)

    async def list_instruments(self) -> list[Instrument]:
        docs = await with_retry(partial(find_list, self._instruments, {}, [("_id", 1)], 0))
        return [instrument_from_doc(doc) for doc in docs]
