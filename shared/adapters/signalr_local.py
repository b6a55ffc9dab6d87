"""The notifier on the in-process local hub: the embedded run's default, no HTTP involved."""

from __future__ import annotations

from collections.abc import Sequence

from shared.ports.notifier import ClientAccess, UnknownConnectionError
from shared.signalr_hub.hub import LocalHub
from shared.signalr_hub.tokens import client_url, sign_token


class LocalNotifier:
    """Calls the local hub object directly; clients connect to it at `endpoint`.

    `endpoint` is the hub's public base URL, e.g. `http://127.0.0.1:7071/signalr`.
    """

    def __init__(
        self, hub: LocalHub, endpoint: str, hub_name: str = "oms", token_ttl: int = 3600
    ) -> None:
        self._hub = hub
        self._endpoint = endpoint.rstrip("/")
        self._name = hub_name
        self._ttl = token_ttl

    async def send_to_user(self, user_id: str, target: str, args: Sequence[object]) -> None:
        self._hub.send_to_user(self._name, user_id, target, args)

    async def send_to_group(self, group: str, target: str, args: Sequence[object]) -> None:
        self._hub.send_to_group(self._name, group, target, args)

    async def send_to_all(self, target: str, args: Sequence[object]) -> None:
        self._hub.send_to_all(self._name, target, args)

    async def add_user_to_group(self, user_id: str, group: str) -> None:
        self._hub.add_user_to_group(self._name, user_id, group)

    async def remove_user_from_group(self, user_id: str, group: str) -> None:
        self._hub.remove_user_from_group(self._name, user_id, group)

    async def add_connection_to_group(self, connection_id: str, group: str) -> None:
        if not self._hub.add_connection_to_group(self._name, connection_id, group):
            raise UnknownConnectionError(connection_id)

    async def remove_connection_from_group(self, connection_id: str, group: str) -> None:
        self._hub.remove_connection_from_group(self._name, connection_id, group)

    def reaches_user(self, user_id: str) -> bool:
        return self._hub.user_connected(self._name, user_id)

    async def client_access(self, user_id: str) -> ClientAccess:
        url = client_url(self._endpoint, self._name)
        token = sign_token(self._hub.access_key, url, user_id=user_id, ttl_seconds=self._ttl)
        return ClientAccess(url, token)
