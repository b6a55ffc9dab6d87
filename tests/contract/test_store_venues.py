"""Contract: venue definitions, connection records and routing fields, on every store."""

from __future__ import annotations

import dataclasses
import hashlib
from decimal import Decimal

import pytest

from shared.domain.enums import AccountType
from shared.domain.instrument import Instrument
from shared.ports.store_accounts import Account
from shared.ports.store_errors import DuplicateVenue
from shared.ports.store_venues import (
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
