"""The venue admin API: venues as data, their connections' state, routing accounts and
instruments, and clear problems for bad input (nothing changes on a refusal)."""

from __future__ import annotations

from typing import Any

from shared.domain.enums import AccountType
from shared.gateway_messages import decode
from shared.ports.store_venues import VenueConnection
from shared.ports.venue import ConnectionState
from tests.support.oms import Client, Oms, Transport

ACME: dict[str, Any] = {
    "name": "acme",
    "kind": "fix",
    "host": "fix.acme.example",
    "port": 9878,
    "sender_comp_id": "OMS",
    "target_comp_id": "ACME",
    "heartbeat_seconds": 15,
    "rate_per_second": 20,
    "burst": 40,
    "credentials": {"password": "VENUE_ACME_PASSWORD"},
}


async def test_a_defined_venue_is_listed_disconnected_until_a_gateway_connects(
    oms: Oms, transport: Transport
):
    admin = Client(transport, oms.admin_key)
    created = await admin.call("POST", "/api/admin/venues", json=ACME)
    assert created.status == 201, created.body
    venue = created.json()
    assert (venue["name"], venue["kind"], venue["state"]) == ("acme", "fix", "disconnected")
    assert venue["begin_string"] == "FIX.4.4" and venue["heartbeat_seconds"] == 15
    assert venue["credentials"] == {"password": "VENUE_ACME_PASSWORD"}
    assert venue["last_error"] == "no gateway has connected this venue yet"

    # The gateway that takes the venue reports its connection; the API shows it.
    now = oms.clock()
    await oms.container.store.venues.put_connection(
        VenueConnection("acme", ConnectionState.CONNECTED, None, now, "gw-1")
    )
    listed = (await admin.call("GET", "/api/admin/venues")).json()["items"]
    assert [(v["name"], v["state"], v["last_error"]) for v in listed] == [
        ("acme", "connected", None)
    ]

    # A gateway that stopped reporting holds nothing any more.
    oms.clock.advance(120)
    (stale,) = (await admin.call("GET", "/api/admin/venues")).json()["items"]
    assert stale["state"] == "disconnected" and "no gateway holds" in stale["last_error"]


async def test_defining_a_venue_wakes_a_gateway_on_the_venues_session(oms: Oms):
    admin = Client(oms_transport(oms), oms.admin_key)
    assert (await admin.call("POST", "/api/admin/venues", json=ACME)).status == 201

    receiver = await oms.container.bus.accept_session(oms.container.settings.VENUES_QUEUE)
    assert receiver is not None and receiver.session_id == "acme"
    (message,) = await receiver.receive(10)
    assert decode(message.body)[:2] == ("venue_defined", "acme")


def oms_transport(oms: Oms) -> Transport:
    from tests.support.oms import FunctionsTransport

    return FunctionsTransport(oms.app)


async def test_bad_venues_are_refused_with_the_field_and_a_reason(oms: Oms, transport: Transport):
    admin = Client(transport, oms.admin_key)
    assert (await admin.call("POST", "/api/admin/venues", json=ACME)).status == 201
    cases = [
        ({**ACME}, 409, "VENUE_EXISTS", "name"),
        ({**ACME, "name": "internal"}, 422, "INVALID_VALUE", "name"),
        ({**ACME, "name": "b", "credentials": {"password": "hunter2-secret"}}, 422,
         "CREDENTIAL_NOT_A_REFERENCE", "credentials.password"),
        ({**ACME, "name": "c", "port": 70000}, 422, None, "port"),
        ({**ACME, "name": "d", "begin_string": "FIX.4.2"}, 422, None, "begin_string"),
        ({**ACME, "name": "e", "host": "http://x"}, 422, None, "host"),
        ({**ACME, "name": "f", "kind": "carrier-pigeon"}, 422, None, "kind"),
        ({**ACME, "name": "g", "sender_comp_id": "O MS"}, 422, None, "sender_comp_id"),
        ({**ACME, "name": "h", "api_key": "x"}, 422, "UNKNOWN_FIELD", "api_key"),
    ]  # fmt: skip
    for body, status, reason, field in cases:
        reply = await admin.call("POST", "/api/admin/venues", json=body)
        problem = reply.json()
        assert reply.status == status, (body, reply.body)
        assert reply.headers["content-type"].startswith("application/problem+json")
        if reason is not None:
            assert problem["reason"] == reason, problem
        assert field in (problem.get("field") or "") + str(problem.get("errors")), problem
    assert [v["name"] for v in (await admin.call("GET", "/api/admin/venues")).json()["items"]] == [
        "acme"
    ]
    # No secret was stored: nothing of the refused value is anywhere in the listing.
    assert "hunter2" not in (await admin.call("GET", "/api/admin/venues")).body.decode()


async def test_only_admins_see_and_define_venues(oms: Oms, transport: Transport):
    _, key = await oms.add_account("trader")
    trader = Client(transport, key)
    assert (await trader.call("GET", "/api/admin/venues")).status == 403
    assert (await trader.call("POST", "/api/admin/venues", json=ACME)).status == 403
    assert (await Client(transport, "wrong").call("GET", "/api/admin/venues")).status == 401


async def test_a_live_account_is_routed_to_a_venue_and_back(oms: Oms, transport: Transport):
    admin = Client(transport, oms.admin_key)
    assert (await admin.call("POST", "/api/admin/venues", json=ACME)).status == 201
    live, _ = await oms.add_account("desk", AccountType.LIVE)

    routed = await admin.call("PATCH", f"/api/admin/accounts/{live}", json={"venue": "acme"})
    assert routed.status == 200, routed.body
    assert routed.json()["venue"] == "acme"
    assert (await admin.call("GET", f"/api/admin/accounts/{live}")).json()["venue"] == "acme"
    both = await admin.call(
        "PATCH", f"/api/admin/accounts/{live}", json={"venue": "internal", "name": "desk 2"}
    )
    assert (both.json()["venue"], both.json()["name"]) == (None, "desk 2")


async def test_routing_refuses_paper_accounts_and_unknown_venues_and_changes_nothing(
    oms: Oms, transport: Transport
):
    admin = Client(transport, oms.admin_key)
    assert (await admin.call("POST", "/api/admin/venues", json=ACME)).status == 201
    paper, _ = await oms.add_account("sim", AccountType.PAPER)
    live, _ = await oms.add_account("desk", AccountType.LIVE)

    refused = await admin.call(
        "PATCH", f"/api/admin/accounts/{paper}", json={"venue": "acme", "name": "renamed"}
    )
    unknown = await admin.call(
        "PATCH", f"/api/admin/accounts/{live}", json={"venue": "nowhere", "name": "renamed"}
    )
    missing = await admin.call("PATCH", "/api/admin/accounts/nobody", json={"venue": "acme"})

    assert (refused.status, refused.json()["reason"]) == (409, "ACCOUNT_NOT_LIVE")
    assert (unknown.status, unknown.json()["reason"]) == (422, "UNKNOWN_VENUE")
    assert unknown.json()["field"] == "venue"
    assert missing.status == 404
    for account_id, name in ((paper, "sim"), (live, "desk")):
        account = (await admin.call("GET", f"/api/admin/accounts/{account_id}")).json()
        assert (account["venue"], account["name"]) == (None, name)


async def test_an_instrument_overrides_the_accounts_routing(oms: Oms, transport: Transport):
    admin = Client(transport, oms.admin_key)
    await oms.add_instrument("AAPL")
    assert (await admin.call("POST", "/api/admin/venues", json=ACME)).status == 201

    routed = await admin.call("PATCH", "/api/admin/instruments/AAPL", json={"venue": "acme"})
    unknown = await admin.call(
        "PATCH", "/api/admin/instruments/AAPL", json={"venue": "nowhere", "price_collar_bps": 5}
    )

    assert routed.status == 200 and routed.json()["venue"] == "acme"
    assert (unknown.status, unknown.json()["reason"]) == (422, "UNKNOWN_VENUE")
    instrument = (await admin.call("GET", "/api/instruments/AAPL")).json()
    assert (instrument["venue"], instrument["price_collar_bps"]) == ("acme", 1000)
