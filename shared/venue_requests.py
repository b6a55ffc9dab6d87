"""The gateway messages of journaled `VenueRequestIssued` events (issue #18): the instrument
worker's outbox sends them to VENUES_QUEUE (session = venue) with the events' batch, before
the published mark moves, so a recovery that re-publishes the events re-sends them too (the
bus drops a repeat by message id `<venue>:<cl_ord_id>`, the venue one by ClOrdID).

Lots and ticks become the venue's decimal units through the instrument's grid."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal

from shared.domain.enums import OrderType, Side, TimeInForce
from shared.domain.events import Event, VenueRequestIssued, event_from_dict
from shared.domain.instrument import Instrument
from shared.gateway_messages import request_message
from shared.ports.bus import BusMessage
from shared.ports.store_journal import JournalEntry
from shared.ports.venue import VenueCancel, VenueOrder, VenueReplace, VenueRequest

KIND = VenueRequestIssued.KIND


def venue_request(event: VenueRequestIssued, instrument: Instrument) -> VenueRequest:
    """The port's request for one issued request, in the venue's units."""
    lot, tick = instrument.lot_size, instrument.tick_size
    quantity = Decimal(event.quantity) * lot
    price = Decimal(event.price) * tick if event.price else None
    stop = Decimal(event.stop_price) * tick if event.stop_price else None
    side = Side(event.side)
    venue_order_id = event.venue_order_id or None
    if event.request_kind == "place":
        return VenueOrder(
            cl_ord_id=event.cl_ord_id,
            symbol=event.symbol,
            side=side,
            order_type=OrderType(event.order_type),
            time_in_force=TimeInForce(event.time_in_force),
            quantity=quantity,
            transact_time=event.ts,
            price=price,
            stop_price=stop,
            expire_at=event.expire_at or None,
        )
    if event.request_kind == "cancel":
        return VenueCancel(
            cl_ord_id=event.cl_ord_id,
            orig_cl_ord_id=event.orig_cl_ord_id,
            symbol=event.symbol,
            side=side,
            quantity=quantity,
            transact_time=event.ts,
            venue_order_id=venue_order_id,
        )
    return VenueReplace(
        cl_ord_id=event.cl_ord_id,
        orig_cl_ord_id=event.orig_cl_ord_id,
        symbol=event.symbol,
        side=side,
        order_type=OrderType(event.order_type),
        time_in_force=TimeInForce(event.time_in_force),
        quantity=quantity,
        transact_time=event.ts,
        price=price,
        stop_price=stop,
        venue_order_id=venue_order_id,
    )


def issued(
    entries: Iterable[tuple[JournalEntry, Iterable[Event] | None]],
) -> list[VenueRequestIssued]:
    """The requests issued by the entries (events as given, else as journaled)."""
    found: list[VenueRequestIssued] = []
    for entry, given in entries:
        if given is not None:
            found.extend(e for e in given if type(e) is VenueRequestIssued)
            continue
        for data in entry.events:
            if data.get("kind") == KIND:
                event = event_from_dict(data)
                assert isinstance(event, VenueRequestIssued)
                found.append(event)
    return found


def request_messages(
    events: list[VenueRequestIssued], instrument: Instrument, resend: bool = False
) -> list[BusMessage]:
    """The gateway messages; `resend`: requests whose fate is unknown (the gateway asks the
    venue about each before it sends it again, flagged PossResend)."""
    messages = []
    for e in events:
        request = venue_request(e, instrument)
        if resend:
            request = dataclasses.replace(request, resend=True)
        messages.append(request_message(e.venue, e.symbol, request))
    return messages
