"""What admins are told about a venue's connection (when: gateway.worker decides; see
tests/integration/test_gateway_service.py): who, what, the error, live on the admin feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.ports.store_audit import AuditFilter
from shared.ports.store_venues import VenueConnection
from shared.ports.venue import ConnectionState
from shared.services.venue_connections import connection_changed
from tests.support.oms import Oms, make_oms


@pytest.fixture
async def oms() -> AsyncIterator[Oms]:
    system = await make_oms()
    yield system
    await system.container.store.close()


def _at(state: ConnectionState, n: int, error: str | None = None) -> VenueConnection:
    return VenueConnection("fixv", state, error, 1_700_000_000_000_000_000 + n, "gw-1")


async def test_a_venue_down_then_up_is_two_audit_entries_pushed_to_admins(oms: Oms):
    await connection_changed(oms.container, _at(ConnectionState.DISCONNECTED, 1, "reset by peer"))
    await connection_changed(oms.container, _at(ConnectionState.CONNECTED, 2, "reset by peer"))
    await oms.container.background.drain()

    where = AuditFilter(target_type="venue", target_id="fixv")
    down, up = reversed((await oms.container.store.audit.list_entries(where)).items)
    assert (down.action, down.actor, down.detail) == (
        "venue.disconnected",
        "gateway:gw-1",
        "reset by peer",
    )
    assert down.after == {"state": "disconnected", "last_error": "reset by peer"}
    assert (up.action, up.detail) == ("venue.connected", "")  # the error is history
    pushed: list[Any] = [
        args[0]["data"]  # type: ignore[index]
        for group, target, args in oms.notifier.sent
        if (group, target) == ("admin", "auditRecorded")
    ]
    assert [p["audit_id"] for p in pushed] == [down.audit_id, up.audit_id]  # live, in order
