"""Contract: venue definitions, connection records and routing fields, on every store."""

from __future__ import annotations

import dataclasses
import hashlib
from decimal import Decimal

import pytest

from shared.domain.enums import AccountType
from shared.domain.instrument import Instrument
from shared.ports.store_accounts import Account
from shared.ports.store_errors import DuplicateVenue, NotFound, VersionConflict
from shared.ports.store_venues import (
    AlpacaVenueSettings,
    FixSessionState,
    FixVenueSettings,
    VenueConnection,
    VenueDefinition,
    VenueKind,
)
from shared.ports.venue import ConnectionState


def fix_venue(name: str = "acme", **overrides) -> VenueDefinition:
    fields = {
        "name": name,
        "kind": VenueKind.FIX,
        "fix": FixVenueSettings("fix.acme.example", 9878, "OMS", "ACME", heartbeat_seconds=15),
        "rate_per_second": 20,
        "burst": 40,
        "credentials": (("password", "VENUE_ACME_PASSWORD"),),
        "created_at": 77,
    }
    return VenueDefinition(**{**fields, **overrides})


async def test_a_venue_is_stored_whole_and_listed_by_name(store):
    zeta = fix_venue("zeta", fix=FixVenueSettings("10.0.0.9", 1, "A", "B", username="ops"))
    acme = fix_venue()
    await store.venues.create(zeta)
    await store.venues.create(acme)

    assert await store.venues.get("acme") == acme
    assert (await store.venues.get("zeta")).fix.username == "ops"
    assert await store.venues.get("nope") is None
    assert [v.name for v in await store.venues.list_venues()] == ["acme", "zeta"]
    assert acme.credential("password") == "VENUE_ACME_PASSWORD"


async def test_a_venue_name_is_defined_once(store):
    await store.venues.create(fix_venue())

    with pytest.raises(DuplicateVenue):
        await store.venues.create(fix_venue(rate_per_second=1))

    assert (await store.venues.get("acme")).rate_per_second == 20


async def test_the_latest_connection_record_of_each_venue_is_kept(store):
    await store.venues.put_connection(VenueConnection("acme", ConnectionState.CONNECTING, None, 1))
    await store.venues.put_connection(
        VenueConnection("acme", ConnectionState.DISCONNECTED, "refused", 2, "gw-1")
    )
    await store.venues.put_connection(VenueConnection("beta", ConnectionState.CONNECTED, None, 3))

    assert await store.venues.connections() == [
        VenueConnection("acme", ConnectionState.DISCONNECTED, "refused", 2, "gw-1"),
        VenueConnection("beta", ConnectionState.CONNECTED, None, 3),
    ]


async def test_accounts_and_instruments_keep_their_routing(store):
    key = hashlib.sha256(b"k").hexdigest()
    account = Account("acc-9", "Desk", AccountType.LIVE, key, venue="acme")
    await store.accounts.create(account)
    routed = Instrument("AAPL", Decimal("0.01"), Decimal("1"), venue="zeta")
    await store.instruments.create(routed)
    internal = await store.accounts.update(dataclasses.replace(account, venue=None), 0)

    assert (await store.instruments.get("AAPL")).venue == "zeta"
    rerouted = await store.instruments.update(dataclasses.replace(routed, venue="acme"), 0)
    assert rerouted.version == 1 and (await store.instruments.get("AAPL")).venue == "acme"
    assert internal.venue is None and (await store.accounts.get("acc-9")).venue is None


async def test_a_venue_changes_only_from_the_version_it_was_read_at(store):
    await store.venues.create(fix_venue())
    read = await store.venues.get("acme")
    assert read.version == 0

    first = await store.venues.update(dataclasses.replace(read, rate_per_second=5), 0)
    with pytest.raises(VersionConflict) as stale:
        await store.venues.update(dataclasses.replace(read, burst=7), 0)
    with pytest.raises(NotFound):
        await store.venues.update(fix_venue("ghost"), 0)

    assert first.version == 1 and stale.value.actual_version == 1
    stored = await store.venues.get("acme")
    assert (stored.rate_per_second, stored.burst, stored.version) == (5, 40, 1)


async def test_a_venue_is_deleted_with_its_connection_record_only_at_its_version(store):
    await store.venues.create(fix_venue())
    await store.venues.create(fix_venue("beta"))
    await store.venues.put_connection(VenueConnection("acme", ConnectionState.CONNECTED, None, 1))
    await store.venues.update(await store.venues.get("acme"), 0)

    with pytest.raises(VersionConflict):
        await store.venues.delete("acme", 0)
    assert await store.venues.get("acme") is not None
    await store.venues.delete("acme", 1)
    with pytest.raises(NotFound):
        await store.venues.delete("acme", 1)

    assert [v.name for v in await store.venues.list_venues()] == ["beta"]
    assert await store.venues.connections() == []


async def test_an_alpaca_venue_is_stored_whole(store):
    alpaca = VenueDefinition(
        "broker",
        VenueKind.ALPACA,
        alpaca=AlpacaVenueSettings("custom", "http://127.0.0.1:9/"),
        rate_per_second=3,
        burst=10,
        credentials=(("key_id", "ALPACA_KEY"), ("secret_key", "ALPACA_SECRET")),
    )
    await store.venues.create(alpaca)
    assert await store.venues.get("broker") == alpaca


def session(**overrides) -> FixSessionState:
    fields = {
        "key": "acme/FIX.4.4:OMS->ACME",
        "created_at": 1_750_000_000_000_000_000,
        "next_sender_floor": 1001,
        "next_target": 1,
        "owner": "store-a",
        "updated_at": 5,
    }
    return FixSessionState(**{**fields, **overrides})


async def test_fix_session_state_is_created_once_then_advanced_by_version(store):
    assert await store.venues.session_state("acme/FIX.4.4:OMS->ACME") is None
    created = await store.venues.save_session_state(session(), 0)
    with pytest.raises(VersionConflict):
        await store.venues.save_session_state(session(owner="store-b"), 0)
    advanced = await store.venues.save_session_state(
        session(next_sender_floor=2001, next_target=57), 1
    )
    with pytest.raises(VersionConflict) as stale:
        await store.venues.save_session_state(session(next_target=3), 1)

    assert created.version == 1 and advanced.version == 2 and stale.value.actual_version == 2
    assert await store.venues.session_state("acme/FIX.4.4:OMS->ACME") == advanced
    assert (advanced.next_sender_floor, advanced.next_target, advanced.owner) == (
        2001,
        57,
        "store-a",
    )
