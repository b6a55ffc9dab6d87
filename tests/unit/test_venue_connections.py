"""What admins are told about a venue's connection (when: gateway.worker decides; see
tests/integration/test_gateway_service.py): who, what, the error, live on the admin feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.worker import VenueWorker, WorkerConfig
from shared.ports.store_audit import AuditFilter
from shared.ports.store_venues import VenueConnection, VenueDefinition, VenueKind
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


class _Told:
    def __init__(self) -> None:
        self.states: list[str] = []

    async def __call__(self, now: VenueConnection) -> None:
        self.states.append(now.state.value)


def _worker(told: _Told) -> VenueWorker:
    venue = VenueDefinition("fixv", VenueKind.FIX)
    unused: Any = None  # the connection notices need neither the bus nor the venue
    return VenueWorker(venue, unused, unused, unused, unused, "gw-1", WorkerConfig(), watch=told)


async def _states(worker: VenueWorker, *states: ConnectionState) -> None:
    for n, state in enumerate(states):
        await worker._tell_if_news(_at(state, n))


UP, TRYING, DOWN = (
    ConnectionState.CONNECTED,
    ConnectionState.CONNECTING,
    ConnectionState.DISCONNECTED,
)


async def test_a_lost_connection_is_told_even_when_it_is_already_reconnecting() -> None:
    told = _Told()
    await _states(_worker(told), TRYING, UP, TRYING, DOWN, TRYING, DOWN, TRYING, UP)
    assert told.states == ["connected", "connecting", "connected"]  # up, lost, back


async def test_a_venue_down_when_the_worker_starts_is_told_once() -> None:
    told = _Told()
    await _states(_worker(told), TRYING, DOWN, TRYING, DOWN, TRYING)
    assert told.states == ["disconnected"]


async def test_a_worker_taking_over_a_connected_venue_tells_a_loss_only_if_it_was_lost() -> None:
    quick, slow = _Told(), _Told()
    handover = _worker(quick)
    handover._told_up = True  # the previous owner left it connected (stored)
    await _states(handover, UP)  # reconnected at once: nothing new
    assert quick.states == []
    crashed = _worker(slow)
    crashed._told_up = True
    await _states(crashed, TRYING, UP)
    assert slow.states == ["connecting", "connected"]  # lost meanwhile: told as it was seen
