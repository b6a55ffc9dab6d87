"""The account feed on the in-process local hub: a hub connection of the account's user, read
in process (no socket), so it gets exactly what a SignalR client of the account gets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from shared.ports.account_feed import FeedMessage
from shared.signalr_hub import protocol as p
from shared.signalr_hub.hub import HubConnection, LocalHub


class LocalHubFeed:
    def __init__(self, hub: LocalHub, hub_name: str = "oms") -> None:
        self._hub = hub
        self._name = hub_name

    @contextlib.asynccontextmanager
    async def listen(self, account_id: str) -> AsyncIterator[AsyncIterator[FeedMessage]]:
        connection = self._hub.connect(self._name, self._hub.new_connection_id(), account_id)
        try:
            yield _messages(connection)
        finally:
            self._hub.disconnect(connection)


async def _messages(connection: HubConnection) -> AsyncIterator[FeedMessage]:
    while (frame := await connection.next_frame()) is not None:
        records, _ = p.split_records(frame)
        for record in records:
            message = p.parse_record(record)
            if message.get("type") == p.INVOCATION and message.get("arguments"):
                yield FeedMessage(str(message["target"]), message["arguments"][0])
