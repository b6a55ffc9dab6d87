"""The notifier port: push live messages to SignalR clients (SignalR Service or the local hub).

Clients are addressed the way SignalR Service addresses them in Serverless mode: by user id
(the `nameid` claim of the client's access token; here the account id), by group, or all
connections of the hub. Messages are hub invocations: a `target` method name and `args`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol


class NotifierError(Exception):
    """The SignalR endpoint refused or failed a request."""


class UnknownConnectionError(NotifierError):
    """The connection id is not (or no longer) connected to the hub."""


class ClientAccess(NamedTuple):
    """Where a client connects and the token it presents: SignalR's redirect negotiate shape."""

    url: str
    access_token: str

    def negotiate_response(self) -> dict[str, str]:
        """The JSON body a negotiate endpoint returns to redirect a SignalR client."""
        return {"url": self.url, "accessToken": self.access_token}


class Notifier(Protocol):
    """Send hub invocations to users, groups or everyone, and manage group membership."""

    async def send_to_user(self, user_id: str, target: str, args: Sequence[object]) -> None:
        """Invoke `target(*args)` on every connection of `user_id`."""
        ...

    async def send_to_group(self, group: str, target: str, args: Sequence[object]) -> None:
        """Invoke `target(*args)` on every connection in `group`."""
        ...

    async def send_to_all(self, target: str, args: Sequence[object]) -> None:
        """Invoke `target(*args)` on every connection of the hub."""
        ...

    async def add_user_to_group(self, user_id: str, group: str) -> None:
        """Put the user's current and future connections in `group`."""
        ...

    async def remove_user_from_group(self, user_id: str, group: str) -> None:
        """Take the user (all its connections) out of `group`."""
        ...

    async def add_connection_to_group(self, connection_id: str, group: str) -> None:
        """Put one connection in `group`; raises UnknownConnectionError if it is not connected."""
        ...

    async def remove_connection_from_group(self, connection_id: str, group: str) -> None:
        """Take one connection out of `group` (no error if it was not in it)."""
        ...

    async def client_access(self, user_id: str) -> ClientAccess:
        """The client URL and an access token that identifies the client as `user_id`."""
        ...

    def reaches_user(self, user_id: str) -> bool:
        """False only when no connection of `user_id` could receive a message now, so a
        push to the user may be skipped; an endpoint that cannot tell answers True."""
        ...
