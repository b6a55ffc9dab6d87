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
class VenueDefinition:
    """An external venue. `credentials` maps a role ("password") to the name of the setting
    that holds it in the gateway's environment. `rate_per_second` and `burst` are the
    venue's request limit (a token bucket in the gateway)."""

    name: str
    kind: VenueKind
    fix: FixVenueSettings | None = None
    rate_per_second: int = 50
    burst: int = 100
    credentials: tuple[tuple[str, str], ...] = ()
    created_at: int = 0

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


class VenueRepository(Protocol):
    """Venue definitions by name, and one connection record per venue."""

    async def create(self, venue: VenueDefinition) -> None:
        """Store a new venue. Raises DuplicateVenue when the name is taken."""
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
