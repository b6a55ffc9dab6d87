"""Admins are told when a venue's connection goes down or comes back, and only then: the
back-off's connecting / disconnected steps while it stays down are not news."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.ports.store_audit import AuditFilter
from shared.ports.store_venues import VenueConnection
from shared.ports.venue import ConnectionState
from shared.services.venue_connections import connection_changed
from tests.support.oms import Oms, make_oms

UP, TRYING, DOWN = (
    ConnectionState.CONNECTED,
    ConnectionState.CONNECTING,
    ConnectionState.DISCONNECTED,
)


@pytest.fixture
async def oms() -> AsyncIterator[Oms]:
    system = await make_oms()
    yield system
    await system.container.store.close()


def _at(state: ConnectionState, n: int, error: str | None = None) -> VenueConnection:
    return VenueConnection("fixv", state, error, 1_700_000_000_000_000_000 + n, "gw-1")


async def test_admins_hear_a_venue_go_down_and_come_back_and_nothing_in_between(oms: Oms):
    steps: list[tuple[ConnectionState | None, VenueConnection]] = [
        (None, _at(TRYING, 1)),
        (TRYING, _at(UP, 2)),
        (UP, _at(DOWN, 3, "connection reset by peer")),
        (DOWN, _at(TRYING, 4)),
        (TRYING, _at(DOWN, 5, "logon refused")),
        (DOWN, _at(TRYING, 6)),
        (TRYING, _at(UP, 7, "logon refused")),
    ]
    told = [await connection_changed(oms.container, before, now) for before, now in steps]
    assert told == [False, True, True, False, False, False, True]

    where = AuditFilter(target_type="venue", target_id="fixv")
    entries = list(reversed((await oms.container.store.audit.list_entries(where)).items))
    assert [(e.action, e.actor) for e in entries] == [
        ("venue.connected", "gateway:gw-1"),
        ("venue.disconnected", "gateway:gw-1"),
        ("venue.connected", "gateway:gw-1"),
    ]
    assert entries[2].detail == ""  # back up: the last error is not news any more
    down = entries[1]
    assert down.detail == "connection reset by peer"
    assert down.before == {"state": "connected"}
    assert down.after == {"state": "disconnected", "last_error": "connection reset by peer"}
    pushed: list[Any] = [
        args[0]["data"]  # type: ignore[index]
        for group, target, args in oms.notifier.sent
        if (group, target) == ("admin", "auditRecorded")
    ]
    assert [p["action"] for p in pushed] == [e.action for e in entries]  # live, in order
