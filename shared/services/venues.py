"""External venues as data: define them, list them with their connections, route accounts
and instruments to them. Every change is in the audit trail (`shared.services.audit`: who,
when, before and after).

Credentials are named, never given: a venue's `credentials` map a role to the name of a
setting (an app setting, or a Key Vault secret mapped into the gateway's environment), so no
secret is ever stored in the database or shown by the API.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace

from shared.domain.enums import AccountType
from shared.domain.instrument import Instrument
from shared.gateway_messages import venue_defined_message
from shared.ports.store_accounts import Account
from shared.ports.store_errors import DuplicateVenue
from shared.ports.store_venues import VenueConnection, VenueDefinition, VenueKind
from shared.ports.venue import ConnectionState
from shared.services import audit, codes
from shared.services.admin import change_account
from shared.services.deps import Deps
from shared.services.errors import Conflict, InvalidRequest
from shared.services.instrument_admin import change_instrument
from shared.services.views import account_view, instrument_view, venue_view

INTERNAL = "internal"
"""Routing to this name means the internal matching engine (no external venue)."""
RESERVED_NAMES = frozenset({INTERNAL, "paper"})
CREDENTIAL_ROLES: dict[VenueKind, frozenset[str]] = {VenueKind.FIX: frozenset({"password"})}
SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,127}$")
STALE_AFTER_NS = 60 * 1_000_000_000
"""A connection record older than this says nothing now: no gateway is holding the venue."""
NEVER_CONNECTED = "no gateway has connected this venue yet"
NOT_HELD = "no gateway holds this venue (its last report is over a minute old)"


@dataclass(frozen=True, slots=True)
class VenueStatus:
    """A venue with the state of its connection, as `GET /api/admin/venues` shows it."""

    venue: VenueDefinition
    state: ConnectionState
    last_error: str | None
    updated_at: int


def _check(spec: VenueDefinition) -> None:
    if spec.name in RESERVED_NAMES:
        raise InvalidRequest(codes.INVALID_VALUE, f"{spec.name!r} is a reserved name", "name")
    if spec.kind is VenueKind.FIX and spec.fix is None:
        raise InvalidRequest(codes.MISSING_FIELD, "a FIX venue needs its session", "host")
    if spec.fix is not None and spec.fix.begin_string != "FIX.4.4":
        raise InvalidRequest(
            codes.INVALID_VALUE, "the FIX connector speaks FIX.4.4 only", "begin_string"
        )
    if spec.burst < 1 or spec.rate_per_second < 1:
        raise InvalidRequest(codes.INVALID_VALUE, "rate and burst must be positive", "burst")
    allowed = CREDENTIAL_ROLES.get(spec.kind, frozenset())
    for role, setting in spec.credentials:
        if role not in allowed:
            raise InvalidRequest(
                codes.INVALID_VALUE,
                f"a {spec.kind.value} venue takes credentials {sorted(allowed)}, not {role!r}",
                f"credentials.{role}",
            )
        if not SETTING_NAME.match(setting):
            raise InvalidRequest(
                codes.CREDENTIAL_NOT_A_REFERENCE,
                "credentials name a setting (e.g. VENUE_ACME_PASSWORD) that holds the secret;"
                " the secret itself is never sent here",
                f"credentials.{role}",
            )


async def define_venue(deps: Deps, spec: VenueDefinition, actor: str) -> VenueDefinition:
    """Store a new venue (created now) and tell the gateways (its session becomes
    available at once)."""
    _check(spec)
    venue = replace(spec, created_at=deps.clock())
    try:
        await deps.store.venues.create(venue)
    except DuplicateVenue:
        raise Conflict(codes.VENUE_EXISTS, f"the venue {spec.name} exists", "name") from None
    defined = venue_view(connection_state(venue, None, venue.created_at))
    await audit.record(deps, actor, "venue.defined", "venue", venue.name, None, defined)
    try:
        message = venue_defined_message(venue.name, venue.created_at)
        await deps.bus.send(deps.settings.VENUES_QUEUE, [message])
    except Exception:
        # The gateways scan the store too; the message only saves them the wait.
        logging.getLogger(__name__).warning("venue %s: gateways not notified", venue.name)
    return venue


def connection_state(
    venue: VenueDefinition, record: VenueConnection | None, now: int
) -> VenueStatus:
    """What a gateway last said of the venue, or disconnected when no gateway speaks now."""
    if record is None:
        return VenueStatus(venue, ConnectionState.DISCONNECTED, NEVER_CONNECTED, 0)
    if now - record.updated_at > STALE_AFTER_NS:
        return VenueStatus(venue, ConnectionState.DISCONNECTED, NOT_HELD, record.updated_at)
    return VenueStatus(venue, record.state, record.last_error, record.updated_at)


async def list_venues(deps: Deps) -> list[VenueStatus]:
    """Every venue with its connection's state."""
    venues = await deps.store.venues.list_venues()
    records = {c.name: c for c in await deps.store.venues.connections()}
    now = deps.clock()
    return [connection_state(v, records.get(v.name), now) for v in venues]


async def check_venue(deps: Deps, name: str) -> str | None:
    """The venue to route to (None for "internal"); UNKNOWN_VENUE if it is not defined."""
    if name == INTERNAL:
        return None
    if await deps.store.venues.get(name) is None:
        raise InvalidRequest(codes.UNKNOWN_VENUE, f"no venue {name}", "venue")
    return name


async def route_account(deps: Deps, account_id: str, venue: str, actor: str) -> Account:
    """Send a live account's orders to `venue` ("internal": the matching engine)."""
    target = await check_venue(deps, venue)

    def route(account: Account) -> Account:
        if account.type is not AccountType.LIVE:
            raise Conflict(
                codes.ACCOUNT_NOT_LIVE,
                f"only live accounts trade on external venues; {account_id} is"
                f" {account.type.value}",
                "venue",
            )
        return replace(account, venue=target)

    before, account = await change_account(deps, account_id, route)
    await audit.record(
        deps,
        actor,
        "account.routed",
        "account",
        account_id,
        account_view(before),
        account_view(account),
        target or INTERNAL,
    )
    return account


async def route_instrument(deps: Deps, symbol: str, venue: str, actor: str) -> Instrument:
    """Send live orders on `symbol` to `venue` whatever their account's routing
    ("internal": back to the account's own routing)."""
    target = await check_venue(deps, venue)
    before, instrument = await change_instrument(
        deps, symbol, lambda instrument: replace(instrument, venue=target)
    )
    await audit.record(
        deps,
        actor,
        "instrument.routed",
        "instrument",
        symbol,
        instrument_view(before),
        instrument_view(instrument),
        target or INTERNAL,
    )
    return instrument


def venue_for(account: Account, instrument: Instrument) -> str | None:
    """Where a live account's order on the instrument goes: the instrument's venue if it
    has one, else the account's; None: the internal matching engine. Paper accounts
    always trade on the paper simulator."""
    if account.type is not AccountType.LIVE:
        return None
    return instrument.venue or account.venue
