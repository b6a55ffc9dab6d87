"""An order's history: the audit trail of its matcher events, read from the journal.

The journal holds every event as the matcher made it, with the time the matcher ran the
command behind it (`JournalEntry.processed_at`); each order keeps the instrument seqs of the
events applied to it (`Order.event_seqs`), so its trail is a few indexed journal reads and
costs the projector nothing more to write. An order's times for analytics (acceptance, first
fill, completion) are those processing times, kept on the order as its events are applied;
the event's own `ts` cannot date them: the engine takes every time from its commands, so a
fill's `ts` is when the order that came in and matched was received, not when it matched.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.enums import OrderStatus
from shared.domain.instrument import Instrument
from shared.domain.numbers import fee_to_str
from shared.domain.order import Order
from shared.services.deps import Deps
from shared.services.orders_io import load_order
from shared.services.views import View, ns_to_rfc3339


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One event of the order as journaled (`Event.to_dict()`), and when the matcher ran
    the command that made it (ns; 0: not recorded)."""

    event: dict[str, object]
    processed_at: int


async def order_events(
    deps: Deps, account_id: str, order_id: str
) -> tuple[Order, list[HistoryEvent]]:
    """The caller's order and its events in order_seq order; NotFound for another's."""
    order = await load_order(deps, account_id, order_id)
    wanted = set(order.event_seqs)
    entries = await deps.store.journal.entries_at(order.symbol, order.event_seqs)
    events = [
        HistoryEvent(event, entry.processed_at)
        for entry in entries
        for event in entry.events
        if event.get("seq") in wanted and event.get("order_id") == order_id
    ]
    return order, events


_PRICES = frozenset(
    {
        *("price", "stop_price", "last_px", "trigger_px", "high_water_mark", "trail_amount"),
        *("bid_px", "ask_px", "last_trade_px", "ref_px"),  # the market it arrived at
    }
)
_QUANTITIES = frozenset(
    {"quantity", "last_qty", "leaves_qty", "cum_qty", "canceled_qty", "held_qty", "display_qty"}
)
_FRAME = frozenset({"kind", "symbol", "seq", "ts", "order_id", "account_id", "order_seq", "status"})


def event_view(stored: HistoryEvent, instrument: Instrument) -> View:
    """An audit-trail entry: the event's own fields in the API's units (prices and
    quantities as decimal strings on the instrument's grid, 0 = none; fees as money),
    anything else as journaled."""
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
    ts, status, seq, order_seq = (event.get(k) for k in ("ts", "status", "seq", "order_seq"))
    return {
        "seq": seq,
        "order_seq": order_seq,
        "kind": event.get("kind"),
        "status": OrderStatus(str(status)).value if status else None,
        "ts": ns_to_rfc3339(ts) if isinstance(ts, int) else None,
        "processed_at": ns_to_rfc3339(stored.processed_at) if stored.processed_at else None,
        "fields": fields,
    }
