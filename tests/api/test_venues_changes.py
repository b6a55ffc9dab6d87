"""Changing and deleting venues: versioned writes (no change lost under concurrency), a
DELETE refused while anything routes to the venue (and never racing a route into a
dangling one), the holding gateway told, clear problems for bad input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.sqlite.store import open_sqlite_store
from shared.domain.enums import AccountType
from shared.gateway_messages import decode
from tests.api.test_venues_admin import ACME
from tests.support.oms import Client, FunctionsTransport, Oms, Transport, make_oms

ALPACA: dict[str, Any] = {
    "name": "broker",
    "kind": "alpaca",
    "environment": "paper",
    "credentials": {
        "key_id": "ALPACA_PAPER_API_KEY_ID",
        "secret_key": "ALPACA_PAPER_API_SECRET_KEY",
    },
}


@pytest.fixture
async def file_oms(tmp_path: Path) -> AsyncIterator[Oms]:
    """Reads see committed data only, so concurrent requests interleave as in production."""
    system = await make_oms(store=await open_sqlite_store(tmp_path / "oms.sqlite3"))
    yield system
    await system.container.store.close()


async def notices(oms: Oms) -> list[tuple[str, str]]:
    receiver = await oms.container.bus.accept_session(oms.container.settings.VENUES_QUEUE, "acme")
    assert receiver is not None
    messages = await receiver.receive(100)
    await receiver.close()
    return [decode(m.body)[:2] for m in messages]


async def test_a_patch_changes_the_given_fields_at_the_next_version_and_tells_the_gateway(
    oms: Oms, transport: Transport
):
    admin = Client(transport, oms.admin_key)
    assert (await admin.call("POST", "/api/admin/venues", json=ACME)).status == 201

    changed = await admin.call(
        "PATCH", "/api/admin/venues/acme", json={"port": 9999, "burst": 80, "version": 0}
    )
    read = await admin.call("GET", "/api/admin/venues/acme")

    assert changed.status == 200, changed.body
    venue = changed.json()
    assert (venue["port"], venue["burst"], venue["version"]) == (9999, 80, 1)
    assert (venue["host"], venue["rate_per_second"]) == ("fix.acme.example", 20)  # kept
    assert read.json() == venue
    assert await notices(oms) == [("venue_defined", "acme"), ("venue_changed", "acme")]


async def test_bad_patches_are_refused_with_the_field_and_change_nothing(
    oms: Oms, transport: Transport
):
    admin = Client(transport, oms.admin_key)
    assert (await admin.call("POST", "/api/admin/venues", json=ACME)).status == 201
    cases = [
        ("acme", {"port": 1, "version": 7}, 409, "VENUE_VERSION_CONFLICT", "version"),
        ("nowhere", {"port": 1}, 404, "VENUE_NOT_FOUND", "name"),
        ("acme", {"environment": "live"}, 422, "INVALID_VALUE", "environment"),
        ("acme", {}, 422, "NOTHING_TO_CHANGE", None),
        ("acme", {"credentials": {"password": "hunter2 secret"}}, 422,
         "CREDENTIAL_NOT_A_REFERENCE", "credentials.password"),
        ("acme", {"port": 70000}, 422, None, "port"),
        ("acme", {"name": "other"}, 422, "UNKNOWN_FIELD", "name"),
        ("acme", {"kind": "alpaca"}, 422, "UNKNOWN_FIELD", "kind"),
    ]  # fmt: skip
    for name, body, status, reason, field in cases:
        reply = await admin.call("PATCH", f"/api/admin/venues/{name}", json=body)
        problem = reply.json()
        assert reply.status == status, (body, reply.body)
        assert reply.headers["content-type"].startswith("application/problem+json")
        if reason is not None:
            assert problem["reason"] == reason, problem
        if field is not None:
            assert field in (problem.get("field") or "") + str(problem.get("errors")), problem
    venue = (await admin.call("GET", "/api/admin/venues/acme")).json()
    assert (venue["port"], venue["version"], venue["credentials"]) == (
        9878,
        0,
        {"password": "VENUE_ACME_PASSWORD"},
    )


async def test_concurrent_patches_of_different_fields_all_stick(file_oms: Oms):
    admin = Client(FunctionsTransport(file_oms.app), file_oms.admin_key)
    assert (await admin.call("POST", "/api/admin/venues", json=ACME)).status == 201
    bodies: list[dict[str, Any]] = [
        {"port": 9001},
        {"burst": 77},
        {"rate_per_second": 33},
        {"heartbeat_seconds": 45},
        {"username": "desk-7"},
        {"target_comp_id": "ACME2"},
    ]

    replies = await asyncio.gather(
        *(admin.call("PATCH", "/api/admin/venues/acme", json=b) for b in bodies)
    )

    assert [r.status for r in replies] == [200] * len(bodies), [r.body for r in replies]
    venue = (await admin.call("GET", "/api/admin/venues/acme")).json()
    for body in bodies:
        ((field, value),) = body.items()
        assert venue[field] == value, (field, venue)
    assert venue["version"] == len(bodies)


async def test_a_venue_in_use_is_not_deleted_until_nothing_routes_to_it(
    oms: Oms, transport: Transport
):
    admin = Client(transport, oms.admin_key)
    assert (await admin.call("POST", "/api/admin/venues", json=ACME)).status == 201
    live, _ = await oms.add_account("desk", AccountType.LIVE)
    await oms.add_instrument("AAPL")
    await admin.call("PATCH", f"/api/admin/accounts/{live}", json={"venue": "acme"})
    await admin.call("PATCH", "/api/admin/instruments/AAPL", json={"venue": "acme"})

    in_use = await admin.call("DELETE", "/api/admin/venues/acme")
    await admin.call("PATCH", f"/api/admin/accounts/{live}", json={"venue": "internal"})
    still = await admin.call("DELETE", "/api/admin/venues/acme")
    await admin.call("PATCH", "/api/admin/instruments/AAPL", json={"venue": "internal"})
    stale = await admin.call("DELETE", "/api/admin/venues/acme?version=0")
    deleted = await admin.call("DELETE", "/api/admin/venues/acme")

    assert (in_use.status, in_use.json()["reason"]) == (409, "VENUE_IN_USE")
    assert f"account {live}" in in_use.json()["detail"] and "AAPL" in in_use.json()["detail"]
    assert (still.status, still.json()["reason"]) == (409, "VENUE_IN_USE")
    assert "AAPL" in still.json()["detail"] and live not in still.json()["detail"]
    # Each refused DELETE marked and unmarked the venue: its version moved on.
    assert (stale.status, stale.json()["reason"]) == (409, "VENUE_VERSION_CONFLICT")
    assert deleted.status == 204
    assert (await admin.call("GET", "/api/admin/venues/acme")).status == 404
    assert (await admin.call("GET", "/api/admin/venues")).json()["items"] == []
    gone = await admin.call("PATCH", f"/api/admin/accounts/{live}", json={"venue": "acme"})
    assert (gone.status, gone.json()["reason"]) == (422, "UNKNOWN_VENUE")
    assert (await notices(oms))[-1] == ("venue_deleted", "acme")
    missing = await admin.call("DELETE", "/api/admin/venues/acme")
    assert (missing.status, missing.json()["reason"]) == (404, "VENUE_NOT_FOUND")


async def later(call: Awaitable[Any], steps: int) -> Any:
    for _ in range(steps):
        await asyncio.sleep(0)
    return await call


async def test_a_delete_racing_a_route_never_leaves_a_route_to_a_deleted_venue(file_oms: Oms):
    admin = Client(FunctionsTransport(file_oms.app), file_oms.admin_key)
    live, _ = await file_oms.add_account("desk", AccountType.LIVE)
    outcomes = set()
    for round_ in range(12):
        name = f"race-{round_}"
        assert (await admin.call("POST", "/api/admin/venues", json={**ACME, "name": name})).status
        delete = admin.call("DELETE", f"/api/admin/venues/{name}")
        route = admin.call("PATCH", f"/api/admin/accounts/{live}", json={"venue": name})
        # Each first in turn, with the other a few steps behind.
        first, second = (delete, route) if round_ % 2 else (route, delete)
        one, other = await asyncio.gather(first, later(second, round_ // 2))
        deleted, routed = (one, other) if round_ % 2 else (other, one)
        account = (await admin.call("GET", f"/api/admin/accounts/{live}")).json()
        exists = (await admin.call("GET", f"/api/admin/venues/{name}")).status == 200
        outcomes.add((deleted.status, routed.status))
        if deleted.status == 204:
            assert not exists and account["venue"] != name and routed.status in (409, 422)
        elif routed.status == 200:
            assert deleted.json()["reason"] == "VENUE_IN_USE"
            assert exists and account["venue"] == name
        else:
            # Each saw the other's write and both stood back: both refused, nothing changed,
            # and either may be retried.
            assert deleted.json()["reason"] == "VENUE_IN_USE"
            assert routed.json()["reason"] == "VENUE_BEING_DELETED"
            assert exists and account["venue"] != name
        await admin.call("PATCH", f"/api/admin/accounts/{live}", json={"venue": "internal"})
    assert outcomes <= {(204, 409), (204, 422), (409, 200), (409, 409)}
    assert outcomes & {(204, 409), (204, 422)} and (409, 200) in outcomes


async def test_an_alpaca_venue_is_defined_with_its_keys_named_by_setting(
    oms: Oms, transport: Transport
):
    admin = Client(transport, oms.admin_key)

    created = await admin.call("POST", "/api/admin/venues", json=ALPACA)
    one_key = await admin.call(
        "POST",
        "/api/admin/venues",
        json={**ALPACA, "name": "b2", "credentials": {"key_id": "ALPACA_KEY"}},
    )
    custom_without_url = await admin.call(
        "POST", "/api/admin/venues", json={**ALPACA, "name": "b3", "environment": "custom"}
    )
    custom = await admin.call(
        "PATCH",
        "/api/admin/venues/broker",
        json={"environment": "custom", "base_url": "http://127.0.0.1:8123"},
    )

    assert created.status == 201, created.body
    venue = created.json()
    assert (venue["kind"], venue["environment"], venue["base_url"], venue["host"]) == (
        "alpaca",
        "paper",
        None,
        None,
    )
    assert venue["credentials"] == ALPACA["credentials"] and venue["rate_per_second"] == 3
    assert one_key.status == 422 and "secret_key" in one_key.body.decode()
    assert (custom_without_url.status, custom_without_url.json()["field"]) == (422, "base_url")
    assert (custom.json()["environment"], custom.json()["base_url"]) == (
        "custom",
        "http://127.0.0.1:8123",
    )
