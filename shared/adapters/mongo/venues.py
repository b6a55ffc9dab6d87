"""Venues on MongoDB: `venues` and `venue_connections`, `_id` = name = shard key."""

from __future__ import annotations

from functools import partial

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo.query import find_list
from shared.adapters.mongo.throttle import with_retry
from shared.ports.store_codec import Doc
from shared.ports.store_codec_venues import (
    connection_from_doc,
    connection_to_doc,
    venue_from_doc,
    venue_to_doc,
)
from shared.ports.store_errors import DuplicateVenue
from shared.ports.store_venues import VenueConnection, VenueDefinition


class MongoVenueRepository:
    """The VenueRepository on MongoDB."""

    def __init__(self, venues: AsyncCollection[Doc], connections: AsyncCollection[Doc]) -> None:
        self._venues = venues
        self._connections = connections

    async def create(self, venue: VenueDefinition) -> None:
        doc = {"_id": venue.name, **venue_to_doc(venue)}
        try:
            await with_retry(partial(self._venues.insert_one, doc))
        except DuplicateKeyError:
            raise DuplicateVenue(venue.name) from None

    async def get(self, name: str) -> VenueDefinition | None:
        doc = await with_retry(partial(self._venues.find_one, {"_id": name, "name": name}))
        return None if doc is None else venue_from_doc(doc)

    async def list_venues(self) -> list[VenueDefinition]:
        docs = await with_retry(partial(find_list, self._venues, {}, [("_id", 1)], 0))
        return [venue_from_doc(doc) for doc in docs]

    async def put_connection(self, connection: VenueConnection) -> None:
        query = {"_id": connection.name, "name": connection.name}
        doc = {"_id": connection.name, **connection_to_doc(connection)}
        await with_retry(partial(self._connections.replace_one, query, doc, upsert=True))

    async def connections(self) -> list[VenueConnection]:
        docs = await with_retry(partial(find_list, self._connections, {}, [("_id", 1)], 0))
        return [connection_from_doc(doc) for doc in docs]
