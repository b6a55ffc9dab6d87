"""What a PATCH of a venue may change, and how a change applies to a venue of each kind."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from shared.ports.store_venues import AlpacaVenueSettings, VenueDefinition
from shared.services import codes
from shared.services.errors import InvalidRequest

FIX_FIELDS = (
    "host",
    "port",
    "sender_comp_id",
    "target_comp_id",
    "heartbeat_seconds",
    "session_start",
    "session_end",
    "username",
)
ALPACA_FIELDS = ("environment", "base_url")


@dataclass(frozen=True, slots=True)
class VenueChanges:
    """The fields to change; None leaves a field as it is. `credentials` replaces them all."""

    host: str | None = None
    port: int | None = None
    sender_comp_id: str | None = None
    target_comp_id: str | None = None
    heartbeat_seconds: int | None = None
    session_start: str | None = None
    session_end: str | None = None
    username: str | None = None
    environment: str | None = None
    base_url: str | None = None
    rate_per_second: int | None = None
    burst: int | None = None
    credentials: tuple[tuple[str, str], ...] | None = None

    def given(self) -> dict[str, object]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not None}


def apply_changes(venue: VenueDefinition, changes: VenueChanges) -> VenueDefinition:
    """`venue` with `changes`; a field of another kind of venue is INVALID_VALUE (nothing
    changes). The result is checked like a new venue by the caller."""
    given = changes.given()
    if not given:
        raise InvalidRequest(codes.NOTHING_TO_CHANGE, "the request changes nothing", None)
    own = FIX_FIELDS if venue.fix is not None else ALPACA_FIELDS
    for name in given:
        if name in (*FIX_FIELDS, *ALPACA_FIELDS) and name not in own:
            raise InvalidRequest(
                codes.INVALID_VALUE, f"a {venue.kind.value} venue has no {name}", name
            )
    changed = venue
    if venue.fix is not None:
        fix_changes = {k: v for k, v in given.items() if k in FIX_FIELDS}
        changed = replace(changed, fix=replace(venue.fix, **fix_changes))  # type: ignore[arg-type]
    if venue.alpaca is not None:
        environment = changes.environment or venue.alpaca.environment
        base_url = changes.base_url
        if base_url is None and environment == "custom":
            base_url = venue.alpaca.base_url
        changed = replace(changed, alpaca=AlpacaVenueSettings(environment, base_url))
    for name in ("rate_per_second", "burst", "credentials"):
        if name in given:
            changed = replace(changed, **{name: given[name]})  # type: ignore[arg-type]
    return changed
