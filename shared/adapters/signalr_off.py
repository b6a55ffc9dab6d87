"""The notifier when SignalR is off: no SIGNALR_ENDPOINT and no local hub (e.g. the Functions
host run locally without the local run). Pushes go nowhere; negotiating is refused."""

from __future__ import annotations

import logging

from shared.ports.notifier import ClientAccess

log = logging.getLogger(__name__)


class DiscardingNotifier:
    """Drops every push (logged at debug); `client_access` raises: there is no hub to join."""

    async def send_to_user(self, user_id: str, target: str, args: object) -> None:
        log.debug("no SignalR: %s to %s dropped", target, user_id)

    async def send_to_group(self, group: str, target: str, args: object) -> None:
        log.debug("no SignalR: %s to %s dropped", target, group)

    async def send_to_all(self, target: str, args: object) -> None:
        log.debug("no SignalR: %s dropped", target)

    async def add_user_to_group(self, user_id: str, group: str) -> None:
        return None

    async def remove_user_from_group(self, user_id: str, group: str) -> None:
        return None

    async def add_connection_to_group(self, connection_id: str, group: str) -> None:
        return None

    async def remove_connection_from_group(self, connection_id: str, group: str) -> None:
        return None

    async def client_access(self, user_id: str) -> ClientAccess:
        raise RuntimeError("no SignalR endpoint is configured")

    def reaches_user(self, user_id: str) -> bool:
        return False
