"""Admins hear when a venue's connection goes down or comes back up: an audit entry
(`venue.disconnected` with the error as its detail, `venue.connected`; actor
`gateway:<replica>`), which the admin feed pushes live. The gateway's worker decides when it
is news (gateway.worker.VenueWorker._tell_if_news): the back-off's steps while a venue
stays down, and a planned stop or handover, are not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shared.feeds.publisher import FeedPublisher
from shared.ports.store import Store
from shared.ports.store_venues import VenueConnection
from shared.ports.venue import ConnectionState
from shared.services import audit
from shared.services.background import Background

UP = ConnectionState.CONNECTED


@dataclass(frozen=True, slots=True)
class NoticeDeps:
    """What the gateway brings to record notices (it has no service container)."""

    store: Store
    feeds: FeedPublisher
    clock: Callable[[], int]
    background: Background = field(default_factory=Background)


async def connection_changed(deps: audit.AuditDeps, now: VenueConnection) -> None:
    """Record that the venue's connection came up (`now.state` connected) or failed (any
    other state, with its error)."""
    up = now.state is UP
    await audit.record(
        deps,
        f"gateway:{now.owner}",
        "venue.connected" if up else "venue.disconnected",
        "venue",
        now.name,
        None,
        {"state": now.state.value, "last_error": now.last_error},
        "" if up else now.last_error or "",  # coming up: the error is history
        at=now.updated_at,
    )
