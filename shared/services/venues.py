"""External venues as data: define them, list them with their connections, route accounts
and instruments to them. Every change is in the audit trail (`shared.services.audit`: who,
when, before and after).

Credentials are named, never given: a venue's `credentials` map a role to the name of a
setting (an app setting, or a Key Vault secret mapped into the gateway's environment), so no
secret is ever stored in the database or shown by the API.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from shared.domain.enums import AccountType
from shared.domain.instrument import Instrument
from shared.gateway_messages import VENUE_CHANGED, VENUE_DEFINED, VENUE_DELETED, venue_notice
from shared.ports.store_accounts import Account
from shared.ports.store_errors import DuplicateVenue, VersionConflict
from shared.ports.store_errors import NotFound as StoredNotFound
from shared.ports.store_venues import VenueConnection, VenueDefinition, VenueKind
from shared.ports.venue import ConnectionState
from shared.services import audit, codes
from shared.services.admin import change_account
from shared.services.deps import Deps
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.instrument_admin import change_instrument
from shared.services.views import account_view, instrument_view, venue_view

INTERNAL = "internal"
"""Routing to this name means the internal matching engine (no external venue)."""
RESERVED_NAMES = frozenset({INTERNAL, "paper"})
CREDENTIAL_ROLES: dict[VenueKind, frozenset[str]] = {
    VenueKind.FIX: frozenset({"password"}),
    VenueKind.ALPACA: frozenset({"key_id", "secret_key"}),
}
ATTEMPTS = 20
"""Conditional writes retried from a fresh read this many times before a 409."""
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
    if spec.kind is VenueKind.ALPACA and spec.alpaca is None:
        raise InvalidRequest(codes.MISSING_FIELD, "an Alpaca venue needs its environment", "kind")
    if spec.alpaca is not None and (spec.alpaca.environment == "custom") != bool(
        spec.alpaca.base_url
    ):
        raise InvalidRequest(
            codes.INVALID_VALUE, "base_url is given with environment custom only", "base_url"
        )
    if spec.fix is not None and spec.fix.begin_string != "FIX.4.4":
        raise InvalidRequest(
            codes.INVALID_VALUE, "the FIX connector speaks FIX.4.4 only", "begin_string"
        )
    if spec.burst < 1 or spec.rate_per_second < 1:
        raise InvalidRequest(codes.INVALID_VALUE, "rate and burst must be positive", "burst")
    allowed = CREDENTIAL_ROLES.get(spec.kind, frozenset())
    missing = sorted(allowed - {role for role, _ in spec.credentials})
    if spec.kind is VenueKind.ALPACA and missing:
        raise InvalidRequest(
            codes.MISSING_FIELD,
            "an Alpaca venue names both keys' settings",
            f"credentials.{missing[0]}",
        )
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
    await _notify(deps, VENUE_DEFINED, venue.name)
    return venue


def _definition_view(venue: VenueDefinition) -> dict[str, object]:
    """The venue as the audit trail keeps it (its definition, no connection state)."""
    view = dict(venue_view(connection_state(venue, None, venue.created_at)))
    for transient in ("state", "last_error", "updated_at"):
        view.pop(transient, None)
    return view


async def _notify(deps: Deps, kind: str, name: str) -> None:
    try:
        await deps.bus.send(deps.settings.VENUES_QUEUE, [venue_notice(kind, name, deps.clock())])
    except Exception:
        # The gateways scan the store too; the message only saves them the wait.
        logging.getLogger(__name__).warning("venue %s: gateways not notified", name)


async def get_venue(deps: Deps, name: str) -> VenueDefinition:
    venue = await deps.store.venues.get(name)
    if venue is None:
        raise NotFound(codes.VENUE_NOT_FOUND, f"no venue {name}", "name")
    return venue


def _stale(name: str, expected: int, actual: int) -> Conflict:
    return Conflict(
        codes.VENUE_VERSION_CONFLICT,
        f"the venue {name} is at version {actual}, not {expected}: read it again",
        "version",
    )


VenueChange = Callable[[VenueDefinition], VenueDefinition]


async def change_venue(
    deps: Deps, name: str, change: VenueChange, actor: str, expected_version: int | None = None
) -> VenueDefinition:
    """Apply `change` to the stored venue: a conditional write from a fresh read, again
    after every concurrent change, so two changes never lose one. With `expected_version`
    the change applies only to that version (VENUE_VERSION_CONFLICT otherwise). The gateway
    holding the venue reconnects with the new definition."""
    for _ in range(ATTEMPTS):
        venue = await get_venue(deps, name)
        if expected_version is not None and venue.version != expected_version:
            raise _stale(name, expected_version, venue.version)
        changed = change(venue)
        _check(changed)
        try:
            stored = await deps.store.venues.update(changed, venue.version)
            break
        except StoredNotFound:
            raise NotFound(codes.VENUE_NOT_FOUND, f"no venue {name}", "name") from None
        except VersionConflict as conflict:
            if expected_version is not None:
                raise _stale(name, expected_version, conflict.actual_version) from None
    else:
        raise Conflict(codes.VENUE_VERSION_CONFLICT, "the venue keeps changing; retry", None)
    await audit.record(
        deps,
        actor,
        "venue.changed",
        "venue",
        name,
        _definition_view(venue),
        _definition_view(stored),
    )
    await _notify(deps, VENUE_CHANGED, name)
    return stored


async def _unmark(deps: Deps, name: str) -> None:
    for _ in range(ATTEMPTS):
        venue = await deps.store.venues.get(name)
        if venue is None or not venue.deleting:
            return
        try:
            await deps.store.venues.update(replace(venue, deleting=False), venue.version)
            return
        except VersionConflict:
            continue


async def routed_to(deps: Deps, name: str) -> tuple[list[str], list[str]]:
    """The accounts and instruments whose orders go to the venue."""
    accounts = [a.account_id for a in await deps.store.accounts.list_accounts() if a.venue == name]
    instruments = [
        i.symbol for i in await deps.store.instruments.list_instruments() if i.venue == name
    ]
    return accounts, instruments


async def delete_venue(
    deps: Deps, name: str, actor: str, expected_version: int | None = None
) -> None:
    """Remove a venue nothing routes to (VENUE_IN_USE otherwise, naming what does).

    Routing and deleting race safely: the venue is first marked `deleting` (a conditional
    write), then the routes are read; routing writes the route first and then reads the
    venue, undoing its write if the venue is marked or gone. Of two such races one side
    always sees the other's write, so no route is left pointing at a deleted venue."""
    venues = deps.store.venues
    for _ in range(ATTEMPTS):
        venue = await get_venue(deps, name)
        if expected_version is not None and venue.version != expected_version:
            raise _stale(name, expected_version, venue.version)
        try:
            marked = venue
            if not venue.deleting:
                marked = await venues.update(replace(venue, deleting=True), venue.version)
            accounts, instruments = await routed_to(deps, name)
            if accounts or instruments:
                await venues.update(replace(marked, deleting=False), marked.version)
                routes = ", ".join([*(f"account {a}" for a in accounts), *instruments])
                raise Conflict(
                    codes.VENUE_IN_USE,
                    f"the venue {name} is in use by {routes}; route them elsewhere first",
                    "name",
                )
            await venues.delete(name, marked.version)
            break
        except StoredNotFound:
            raise NotFound(codes.VENUE_NOT_FOUND, f"no venue {name}", "name") from None
        except VersionConflict as conflict:
            if expected_version is not None:  # the caller's version is gone: nothing done
                await _unmark(deps, name)
                raise _stale(name, expected_version, conflict.actual_version) from None
            continue  # changed meanwhile (a PATCH): again from a fresh read
    else:
        raise Conflict(codes.VENUE_VERSION_CONFLICT, "the venue keeps changing; retry", None)
    await audit.record(deps, actor, "venue.deleted", "venue", name, _definition_view(venue), None)
    await _notify(deps, VENUE_DELETED, name)


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
    """The venue to route to (None for "internal"); UNKNOWN_VENUE if it is not defined,
    VENUE_BEING_DELETED while a DELETE of it runs."""
    if name == INTERNAL:
        return None
    venue = await deps.store.venues.get(name)
    if venue is None:
        raise InvalidRequest(codes.UNKNOWN_VENUE, f"no venue {name}", "venue")
    if venue.deleting:
        raise Conflict(codes.VENUE_BEING_DELETED, f"the venue {name} is being deleted", "venue")
    return name


async def _still_routable(deps: Deps, name: str | None) -> bool:
    """After a route was written: the venue is still there and no DELETE has begun."""
    if name is None:
        return True
    venue = await deps.store.venues.get(name)
    return venue is not None and not venue.deleting


async def route_account(deps: Deps, account_id: str, venue: str, actor: str) -> Account:
    """Send a live account's orders to `venue` ("internal": the matching engine). The route
    is written first (a conditional write), then the venue read again: a DELETE that began
    meanwhile (see `delete_venue`) undoes it and the route is tried again from the start."""
    for _ in range(ATTEMPTS):
        target = await check_venue(deps, venue)  # raises: unknown or being deleted

        def route(account: Account, target: str | None = target) -> Account:
            if account.type is not AccountType.LIVE:
                raise Conflict(
                    codes.ACCOUNT_NOT_LIVE,
                    f"only live accounts trade on external venues; {account_id} is"
                    f" {account.type.value}",
                    "venue",
                )
            return replace(account, venue=target)

        before, account = await change_account(deps, account_id, route)
        if await _still_routable(deps, target):
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
        await _undo_route(lambda undo: change_account(deps, account_id, undo), target, before.venue)
    raise Conflict(codes.VENUE_BEING_DELETED, f"the venue {venue} is being deleted", "venue")


async def _undo_route(
    change: Callable[[Callable[[Any], Any]], Awaitable[object]],
    venue: str | None,
    previous: str | None,
) -> None:
    """Put back the route a DELETE of `venue` made unusable meanwhile (unless it changed
    since): `change` is the conditional change of the account or instrument."""

    def undo(routed: Any) -> Any:
        if routed.venue != venue:
            raise _Unchanged
        return replace(routed, venue=previous)

    with contextlib.suppress(_Unchanged):
        await change(undo)


class _Unchanged(Exception):
    """The route changed since: nothing to undo."""


async def route_instrument(deps: Deps, symbol: str, venue: str, actor: str) -> Instrument:
    """Send live orders on `symbol` to `venue` whatever their account's routing
    ("internal": back to the account's own routing). Written, then checked as routing an
    account is (see `route_account`)."""
    for _ in range(ATTEMPTS):
        target = await check_venue(deps, venue)

        def route(instrument: Instrument, target: str | None = target) -> Instrument:
            return replace(instrument, venue=target)

        before, instrument = await change_instrument(deps, symbol, route)
        if await _still_routable(deps, target):
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
        await _undo_route(lambda undo: change_instrument(deps, symbol, undo), target, before.venue)
    raise Conflict(codes.VENUE_BEING_DELETED, f"the venue {venue} is being deleted", "venue")


def venue_for(account: Account, instrument: Instrument) -> str | None:
    """Where a live account's order on the instrument goes: the instrument's venue if it
    has one, else the account's; None: the internal matching engine. Paper accounts
    always trade on the paper simulator."""
    if account.type is not AccountType.LIVE:
        return None
    return instrument.venue or account.venue
