"""Venues on MongoDB: `venues`, `venue_connections` (`_id` = name = shard key) and
`venue_sessions` (`_id` = key = shard key); versions in the update filters."""

from __future__ import annotations

import dataclasses
from functools import partial

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo.query import find_list
from shared.adapters.mongo.throttle import with_retry
from shared.ports.store_codec import Doc
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


def _version(expected: int) -> object:
    # A venue stored before venues had versions has none: it is version 0.
    return expected or {"$in": [0, None]}


class MongoVenueRepository:
    """The VenueRepository on MongoDB."""

    def __init__(
        self,
        venues: AsyncCollection[Doc],
        connections: AsyncCollection[Doc],
        sessions: AsyncCollection[Doc],
    ) -> None:
        self._venues = venues
        self._connections = connections
        self._sessions = sessions

    async def create(self, venue: VenueDefinition) -> None:
        doc = {"_id": venue.name, **venue_to_doc(venue)}
        try:
            await with_retry(partial(self._venues.insert_one, doc))
        except DuplicateKeyError:
            raise DuplicateVenue(venue.name) from None

    async def _conflict(self, name: str, expected_version: int) -> Exception:
        current = await self.get(name)
        if current is None:
            return NotFound(f"venue {name}")
        return VersionConflict(name, expected_version, current.version)

    async def update(self, venue: VenueDefinition, expected_version: int) -> VenueDefinition:
        stored = dataclasses.replace(venue, version=expected_version + 1)
        query = {"_id": venue.name, "name": venue.name, "version": _version(expected_version)}
        doc = {"_id": venue.name, **venue_to_doc(stored)}
        result = await with_retry(partial(self._venues.replace_one, query, doc))
        if result.matched_count == 0:
            raise await self._conflict(venue.name, expected_version)
        return stored

    async def delete(self, name: str, expected_version: int) -> None:
        query = {"_id": name, "name": name, "version": _version(expected_version)}
        result = await with_retry(partial(self._venues.delete_one, query))
        if result.deleted_count == 0:
            raise await self._conflict(name, expected_version)
        await with_retry(partial(self._connections.delete_one, {"_id": name, "name": name}))

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

    async def session_state(self, key: str) -> FixSessionState | None:
        doc = await with_retry(partial(self._sessions.find_one, {"_id": key, "key": key}))
        return None if doc is None else session_state_from_doc(doc)

    async def save_session_state(
        self, state: FixSessionState, expected_version: int
    ) -> FixSessionState:
        stored = dataclasses.replace(state, version=expected_version + 1)
        doc = {"_id": state.key, **session_state_to_doc(stored)}
        if expected_version == 0:
            try:
                await with_retry(partial(self._sessions.insert_one, doc))
                return stored
            except DuplicateKeyError:
                current = await self.session_state(state.key)
                raise VersionConflict(state.key, 0, current.version if current else 0) from None
        query = {"_id": state.key, "key": state.key, "version": expected_version}
        result = await with_retry(partial(self._sessions.replace_one, query, doc))
        if result.matched_count == 0:
            current = await self.session_state(state.key)
            raise VersionConflict(state.key, expected_version, current.version if current else 0)
        return stored
