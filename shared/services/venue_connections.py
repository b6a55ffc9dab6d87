"""Admins hear when a venue's connection goes down or comes back up: an audit entry
(`venue.disconnected` with the error as its detail, `venue.connected`; actor
`gateway:<replica>`), which the admin feed pushes live. Only crossings of `connected` count: the
connecting / disconnected steps of the back-off while a venue stays down say nothing new."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared.feeds.publisher import FeedPublisher
from shared.ports.store import Store
from shared.ports.store_venues import VenueConnection
from shared.ports.venue import ConnectionState
from shared.services import audit

UP = ConnectionState.CONNECTED


@dataclass(frozen=True, slots=True)
class NoticeDeps:
    """What the gateway brings to record notices (it has no service container)."""

    store: Store
    feeds: FeedPublisher
    clock: Callable[[], int]


async def connection_changed(
    deps: audit.AuditDeps, previous: ConnectionState | None, now: VenueConnection
) -> bool:
    """Record the change from `previous` (None: not reported yet since the gateway took the
    venue) to `now` if it comes up or goes down; whether it did."""
    if (previous is UP) == (now.state is UP):
        return False
    action = "venue.connected" if now.state is UP else "venue.disconnected"
    await audit.record(
        deps,
        f"gateway:{now.owner}",
        action,
        "venue",
        now.name,
        None if previous is None else {"state": previous.value},
        {"state": now.state.value, "last_error": now.last_error},
        "" if now.state is UP else now.last_error or "",  # coming up: the error is history
        at=now.updated_at,
    )
    return True
