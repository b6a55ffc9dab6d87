"""The local hub's state: connections, users and groups per hub, and message fan-out.

Everything here runs on one event loop and never blocks: sending encodes the invocation once
and appends it to each target connection's outbound buffer; one writer task per WebSocket
drains it (see `server.py`). A connection whose buffer overflows is closed, as SignalR Service
closes slow consumers, rather than letting memory grow without bound.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shared.signalr_hub.protocol import close_record, invocation_record


class HubConnection:
    """One client connection's identity, groups and outbound buffer of encoded records."""

    __slots__ = (
        "_buffer",
        "_ready",
        "closed",
        "connection_id",
        "error",
        "groups",
        "hub",
        "max_pending",
        "user_id",
    )

    def __init__(self, hub: str, connection_id: str, user_id: str | None, max_pending: int):
        self.hub = hub
        self.connection_id = connection_id
        self.user_id = user_id
        self.groups: set[str] = set()
        self.max_pending = max_pending
        self.closed = False
        self.error: str | None = None
        self._buffer: deque[str] = deque()
        self._ready = asyncio.Event()

    def push(self, record: str) -> bool:
        """Queue one encoded record; False when the buffer is full (the caller closes us)."""
        if self.closed:
            return True
        if len(self._buffer) >= self.max_pending:
            return False
        self._buffer.append(record)
        self._ready.set()
        return True

    def close(self, error: str | None = None) -> None:
        """Stop accepting records; the writer sends a close message and ends."""
        if not self.closed:
            self.closed = True
            self.error = error
            self._ready.set()

    async def next_frame(self, max_chars: int = 65536) -> str | None:
        """The next batch of records as one text frame, or None once closed and drained."""
        while not self._buffer:
            if self.closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        if self.closed and self.error is not None:
            self._buffer.clear()  # a closing connection gets no further data
            return None
        parts = [self._buffer.popleft()]
        size = len(parts[0])
        while self._buffer and size + len(self._buffer[0]) <= max_chars:
            record = self._buffer.popleft()
            parts.append(record)
            size += len(record)
        return "".join(parts)

    def close_frame(self) -> str:
        """The close message to send as the last frame."""
        return close_record(self.error)


@dataclass
class _HubState:
    connections: dict[str, HubConnection] = field(default_factory=dict)
    users: dict[str, set[str]] = field(default_factory=dict)
    groups: dict[str, set[str]] = field(default_factory=dict)
    user_groups: dict[str, set[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Pending:
    hub: str
    connection_id: str
    user_id: str | None
    expires: float


class LocalHub:
    """Users, groups and connections of every hub the local SignalR endpoint serves."""

    def __init__(
        self,
        access_key: str,
        *,
        max_pending: int = 10_000,
        negotiate_ttl: float = 60.0,
        ping_interval: float = 15.0,
        client_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not access_key:
            raise ValueError("the local SignalR hub needs an access key")
        self.access_key = access_key
        self.max_pending = max_pending
        self.negotiate_ttl = negotiate_ttl
        self.ping_interval = ping_interval
        self.client_timeout = client_timeout
        self._clock = clock
        self._hubs: dict[str, _HubState] = {}
        self._pending: dict[str, _Pending] = {}

    def _state(self, hub: str) -> _HubState:
        key = hub.lower()  # hub names are case-insensitive in SignalR Service
        state = self._hubs.get(key)
        if state is None:
            state = self._hubs[key] = _HubState()
        return state

    # Negotiation and connection lifetime.

    def negotiate(self, hub: str, user_id: str | None) -> dict[str, object]:
        """Reserve a connection and return the direct negotiate response (version 1)."""
        now = self._clock()
        for token in [t for t, p in self._pending.items() if p.expires < now]:
            del self._pending[token]
        connection_id = self.new_connection_id()
        connection_token = secrets.token_urlsafe(32)
        self._pending[connection_token] = _Pending(
            hub.lower(), connection_id, user_id, now + self.negotiate_ttl
        )
        return {
            "negotiateVersion": 1,
            "connectionId": connection_id,
            "connectionToken": connection_token,
            "availableTransports": [
                {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}
            ],
        }

    @staticmethod
    def new_connection_id() -> str:
        """A fresh connection id (for clients that connect without negotiating first)."""
        return secrets.token_urlsafe(16)

    def claim(self, hub: str, connection_token: str, user_id: str | None) -> str | None:
        """The connection id reserved by negotiate for this token, hub and user (once)."""
        pending = self._pending.pop(connection_token, None)
        if pending is None or pending.expires < self._clock():
            return None
        if pending.hub != hub.lower() or pending.user_id != user_id:
            return None
        return pending.connection_id

    def connect(self, hub: str, connection_id: str, user_id: str | None) -> HubConnection:
        """Register a connection that completed its handshake; it joins its user's groups."""
        state = self._state(hub)
        conn = HubConnection(hub.lower(), connection_id, user_id, self.max_pending)
        state.connections[connection_id] = conn
        if user_id is not None:
            state.users.setdefault(user_id, set()).add(connection_id)
            for group in state.user_groups.get(user_id, ()):
                self._join(state, conn, group)
        return conn

    def disconnect(self, conn: HubConnection) -> None:
        """Forget a connection and its memberships."""
        conn.close()
        state = self._state(conn.hub)
        if state.connections.pop(conn.connection_id, None) is None:
            return
        if conn.user_id is not None:
            _discard(state.users, conn.user_id, conn.connection_id)
        for group in conn.groups:
            _discard(state.groups, group, conn.connection_id)
        conn.groups.clear()

    def close_connection(self, hub: str, connection_id: str, reason: str | None = None) -> bool:
        """Close one connection (the client gets a close message); False if unknown."""
        conn = self._state(hub).connections.get(connection_id)
        if conn is None:
            return False
        conn.close(reason)
        return True

    def close_all(self, reason: str | None = None) -> None:
        """Close every connection of every hub (the local run calls this on shutdown)."""
        for state in self._hubs.values():
            for conn in state.connections.values():
                conn.close(reason)

    def connection_count(self, hub: str) -> int:
        """How many connections the hub has now."""
        return len(self._state(hub).connections)

    # Sending.

    def _deliver(
        self, state: _HubState, ids: Sequence[str], target: str, args: Sequence[object]
    ) -> int:
        """Push the invocation to the connections; encoded once, and only if one listens."""
        if not ids:
            return 0
        record = invocation_record(target, args)
        delivered = 0
        for connection_id in ids:
            conn = state.connections.get(connection_id)
            if conn is None:
                continue
            if conn.push(record):
                delivered += 1
            else:
                conn.close("Connection closed: the client did not keep up with its messages.")
        return delivered

    def send_to_all(self, hub: str, target: str, args: Sequence[object]) -> int:
        """Invoke `target` on every connection; the number of connections reached."""
        state = self._state(hub)
        return self._deliver(state, list(state.connections), target, args)

    def user_connected(self, hub: str, user_id: str) -> bool:
        """Whether the user has a connection to the hub now."""
        return bool(self._state(hub).users.get(user_id))

    def send_to_user(self, hub: str, user_id: str, target: str, args: Sequence[object]) -> int:
        """Invoke `target` on every connection of the user."""
        state = self._state(hub)
        ids = list(state.users.get(user_id, ()))
        return self._deliver(state, ids, target, args)

    def send_to_group(self, hub: str, group: str, target: str, args: Sequence[object]) -> int:
        """Invoke `target` on every connection in the group."""
        state = self._state(hub)
        ids = list(state.groups.get(group, ()))
        return self._deliver(state, ids, target, args)

    def send_to_connection(
        self, hub: str, connection_id: str, target: str, args: Sequence[object]
    ) -> int:
        """Invoke `target` on one connection."""
        state = self._state(hub)
        return self._deliver(state, [connection_id], target, args)

    # Groups.

    @staticmethod
    def _join(state: _HubState, conn: HubConnection, group: str) -> None:
        conn.groups.add(group)
        state.groups.setdefault(group, set()).add(conn.connection_id)

    def add_connection_to_group(self, hub: str, connection_id: str, group: str) -> bool:
        """False if the connection is not connected."""
        state = self._state(hub)
        conn = state.connections.get(connection_id)
        if conn is None:
            return False
        self._join(state, conn, group)
        return True

    def remove_connection_from_group(self, hub: str, connection_id: str, group: str) -> bool:
        """False if the connection is not connected."""
        state = self._state(hub)
        conn = state.connections.get(connection_id)
        if conn is None:
            return False
        conn.groups.discard(group)
        _discard(state.groups, group, connection_id)
        return True

    def add_user_to_group(self, hub: str, user_id: str, group: str) -> None:
        """The user's current and future connections are in the group until removed."""
        state = self._state(hub)
        state.user_groups.setdefault(user_id, set()).add(group)
        for connection_id in state.users.get(user_id, ()):
            self._join(state, state.connections[connection_id], group)

    def remove_user_from_group(self, hub: str, user_id: str, group: str) -> None:
        """Take the user and all its connections out of the group."""
        state = self._state(hub)
        _discard(state.user_groups, user_id, group)
        for connection_id in state.users.get(user_id, ()):
            state.connections[connection_id].groups.discard(group)
            _discard(state.groups, group, connection_id)


def _discard(index: dict[str, set[str]], key: str, value: str) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(value)
        if not members:
            del index[key]
