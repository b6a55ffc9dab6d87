"""Shadow mode's events (ShadowFilled, ShadowClosed) onto their orders' shadow records.

Each order's shadow events of a batch are applied in one conditional write, after the
batch's own order events (so a version conflict with them is retried from a fresh read);
a redelivered event is recognised by its sequence and changes nothing (see ShadowRecord).
"""

from __future__ import annotations

import contextlib
import logging

from shared.domain.events import Event, ShadowClosed, ShadowFilled
from shared.domain.order import DuplicateEvent, Order
from shared.domain.shadow import ShadowRecord
from shared.ports.store_risk import LedgerChange
from shared.services.deps import Deps
from shared.services.errors import NotFound
from shared.services.orders_io import change_order

log = logging.getLogger(__name__)


def shadow_events(events: tuple[Event, ...] | list[Event]) -> dict[str, list[Event]]:
    """The batch's shadow events by order id (empty: nothing to do)."""
    by_order: dict[str, list[Event]] = {}
    for event in events:
        if isinstance(event, (ShadowFilled, ShadowClosed)):
            by_order.setdefault(event.order_id, []).append(event)
    return by_order


async def project_shadows(deps: Deps, by_order: dict[str, list[Event]]) -> None:
    for order_id, events in by_order.items():
        await _project_one(deps, order_id, events)


async def _project_one(deps: Deps, order_id: str, events: list[Event]) -> None:
    def apply(order: Order) -> LedgerChange | None:
        if order.shadow is None:
            order.shadow = ShadowRecord()  # placed before its account's flag was stored
        applied = [order.shadow.apply(event) for event in events]
        if not any(applied):
            raise DuplicateEvent("every shadow event applied before")
        return None

    with contextlib.suppress(DuplicateEvent):
        try:
            await change_order(deps, lambda: deps.store.orders.get_any(order_id), apply)
        except NotFound:
            log.warning("shadow events of an unknown order %s", order_id)
