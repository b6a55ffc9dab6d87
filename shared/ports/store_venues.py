"""The venue repository port: external venues as data, and their connections' state.

A venue definition says how to reach a venue; its credentials are only ever the names of
settings (app settings or Key Vault secrets mapped into the gateway's environment), never
the secrets themselves. The gateway that owns a venue writes the connection's state; the
admin API reads it (`GET /api/admin/venues`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from shared.ports.venue import ConnectionState


class VenueKind(StrEnum):
    FIX = "fix"
    ALPACA = "alpaca"


@dataclass(frozen=True, slots=True)
class FixVenueSettings:
    """A FIX session: `sender_comp_id` is ours, `target_comp_id` the venue's. The session
    runs from `session_start` to `session_end` (UTC; equal: a 24-hour session), the bounds
    of one sequence-number lifetime."""

    host: str
    port: int
    sender_comp_id: str
    target_comp_id: str
    begin_string: str = "FIX.4.4"
    heartbeat_seconds: int = 30
    session_start: str = "00:00:00"
    session_end: str = "00:00:00"
    username: str | None = None


@dataclass(frozen=True, slots=True)
class AlpacaVenueSettings:
    """An Alpaca trading account over its REST API and `trade_updates` stream.
    `environment` is "paper" or "live" (Alpaca's own endpoints), or "custom" with `base_url`
    (an Alpaca-compatible API; the stream is served at the same host)."""

    environment: str = "paper"
    base_url: str | None = None


@dataclass(frozen=True, slots=True)
class VenueDefinition:
    """An external venue. `credentials` maps a role ("password") to the name of the setting
    that holds it in the gateway's environment. `rate_per_second` and `burst` are the
    venue's request limit (a token bucket in the gateway). `version` is the
    optimistic-concurrency counter: every change is a conditional write."""

    name: str
    kind: VenueKind
    fix: FixVenueSettings | None = None
    rate_per_second: int = 50
    burst: int = 100
    credentials: tuple[tuple[str, str], ...] = ()
    created_at: int = 0
    version: int = 0
    alpaca: AlpacaVenueSettings | None = None
    deleting: bool = False  # a DELETE is checking that nothing routes here (see services)

    def credential(self, role: str) -> str | None:
        """The setting name holding the credential for `role`, if any."""
        return dict(self.credentials).get(role)


@dataclass(frozen=True, slots=True)
class VenueConnection:
    """A venue's connection as its gateway last reported it (`updated_at`, ns); `owner`
    names the gateway replica holding the venue."""

    name: str
    state: ConnectionState
    last_error: str | None = None
    updated_at: int = 0
    owner: str = ""


@dataclass(frozen=True, slots=True)
class FixSessionState:
    """A FIX session's sequence numbers, kept in the store so that a gateway replica that
    replaces another (its local session store lost) continues the venue's session instead
    of resetting it.

    `next_sender_floor`: every outgoing sequence number below it may have been used; the
    gateway reserves numbers in blocks (it writes here once per block, not per message), so
    a replica that restores the session sends from the floor and the venue's resend request
    for the skipped numbers is answered with a gap fill. `next_target` is the next incoming
    number expected: every message below it was taken (written lazily, so it may lag: the
    venue then resends a few reports flagged PossDupFlag, which consumers apply once).
    `created_at` (ns) is when this sequence lifetime began (QuickFIX's session creation
    time; a new session period resets the numbers); `owner` names the local store that
    wrote last (a replica whose own store wrote last trusts that store)."""

    key: str
    created_at: int
    next_sender_floor: int
    next_target: int
    owner: str
    updated_at: int = 0
    version: int = 0


class VenueRepository(Protocol):
    """Venue definitions by name, one connection record per venue, and FIX session state."""

    async def create(self, venue: VenueDefinition) -> None:
        """Store a new venue. Raises DuplicateVenue when the name is taken."""
        ...

    async def update(self, venue: VenueDefinition, expected_version: int) -> VenueDefinition:
        """Write `venue` if the stored version is still `expected_version`; returns it as
        stored (version + 1). VersionConflict when another writer got there first, NotFound
        when the venue does not exist."""
        ...

    async def delete(self, name: str, expected_version: int) -> None:
        """Remove the venue and its connection record if the stored version is still
        `expected_version`: VersionConflict otherwise, NotFound if there is none."""
        ...

    async def get(self, name: str) -> VenueDefinition | None:
        """The venue, or None."""
        ...

    async def list_venues(self) -> list[VenueDefinition]:
        """Every venue, by name."""
        ...

    async def put_connection(self, connection: VenueConnection) -> None:
        """Record a connection's state (replacing the previous record of that venue)."""
        ...

    async def connections(self) -> list[VenueConnection]:
        """Every connection record, by venue name."""
        ...

    async def session_state(self, key: str) -> FixSessionState | None:
        """The FIX session state stored under `key`, or None."""
        ...

    async def save_session_state(
        self, state: FixSessionState, expected_version: int
    ) -> FixSessionState:
        """Write `state` if the stored version is `expected_version` (0: only if none is
        stored); returns it as stored (version + 1). VersionConflict otherwise."""
        ...
