"""An order's history: the audit trail of its matcher events, and its activity record (the
facts execution analytics read), both built by the projector from the events it applies.

The times: `created_at` (the API's intake time) is the order's receipt; the matcher's
processing time of the command behind an event (journaled beside it, see
`JournalEntry.processed_at`) dates its acceptance, first fill and completion. The event's
own `ts` cannot: the engine takes every time from its commands, so a fill's `ts` is the time
of the order that came in and matched, not of the match.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.domain.enums import TERMINAL_STATUSES, OrderStatus
from shared.domain.events import OrderAccepted, OrderEvent, OrderFilled
from shared.domain.instrument import Instrument
from shared.domain.numbers import fee_to_str
from shared.domain.order import Order
from shared.messages import EventBatch
from shared.ports.store_order_events import OrderActivity, StoredEvent
from shared.services.deps import Deps
from shared.services.orders_io import load_order
from shared.services.views import View, ns_to_rfc3339

_TERMINAL = frozenset(status.value for status in TERMINAL_STATUSES)


def stored_events(batch: EventBatch, events: Iterable[OrderEvent]) -> list[StoredEvent]:
    """The audit-trail records of a batch's order events."""
    return [
        StoredEvent(
            e.account_id,
            e.order_id,
            e.symbol,
            e.seq,
            e.order_seq,
            batch.processed_at(e.seq),
            e.to_dict(),
        )
        for e in events
    ]


def activity(order: Order, applied: Iterable[OrderEvent], batch: EventBatch) -> OrderActivity:
    """The order's activity after `applied` (the events just applied to it, in order)."""
    accepted = first_fill = completed = 0
    for event in applied:
        at = batch.processed_at(event.seq)
        if isinstance(event, OrderAccepted) and not accepted:
            accepted = at
        elif isinstance(event, OrderFilled) and not first_fill:
            first_fill = at
        if event.status in _TERMINAL:
            completed = at
    return OrderActivity(
        order_id=order.order_id,
        account_id=order.account_id,
        symbol=order.symbol,
        side=order.side.value,
        order_type=order.type.value,
        created_at=order.created_at,
        quantity=order.quantity,
        limit_price=order.limit_price or 0,
        order_seq=order.seq,
        status=order.status.value,
        filled_quantity=order.filled_quantity,
        filled_notional=order.filled_notional,
        fees=order.fees,
        accepted_at=accepted,
        first_fill_at=first_fill,
        completed_at=completed,
    )


async def order_events(deps: Deps, account_id: str, order_id: str) -> list[StoredEvent]:
    """The caller's order's events in order_seq order; NotFound for another's order."""
    await load_order(deps, account_id, order_id)
    return await deps.store.order_events.list_by_order(account_id, order_id)


_PRICES = frozenset({"price", "stop_price", "last_px", "trigger_px"})
_QUANTITIES = frozenset({"quantity", "last_qty", "leaves_qty", "cum_qty", "canceled_qty"})
_FRAME = frozenset({"kind", "symbol", "seq", "ts", "order_id", "account_id", "order_seq", "status"})


def event_view(stored: StoredEvent, instrument: Instrument) -> View:
    """An audit-trail entry: the event's own fields in the API's units (prices and
    quantities as decimal strings on the instrument's grid, 0 = none; fees as money),
    anything else as stored."""
    event = stored.event
    fields: View = {}
    for name, value in event.items():
        if name in _FRAME:
            continue
        if name in _PRICES and isinstance(value, int):
            fields[name] = instrument.price_str(value) if value else None
        elif name in _QUANTITIES and isinstance(value, int):
            fields[name] = instrument.quantity_str(value) if value else "0"
        elif name == "fee" and isinstance(value, int):
            fields[name] = fee_to_str(value, instrument.tick_size, instrument.lot_size)
        else:
            fields[name] = value
    ts = event.get("ts")
    status = event.get("status")
    return {
        "seq": stored.seq,
        "order_seq": stored.order_seq,
        "kind": event.get("kind"),
        "status": OrderStatus(str(status)).value if status else None,
        "ts": ns_to_rfc3339(ts) if isinstance(ts, int) else None,
        "processed_at": ns_to_rfc3339(stored.processed_at) if stored.processed_at else None,
        "fields": fields,
    }
