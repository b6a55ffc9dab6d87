"""One order of an instrument at an external venue, as the venue confirmed it (see
`matcher.engine.external`), and its snapshot form."""

from __future__ import annotations

from typing import final

from shared.domain.codes import CANCELED, EXPIRED, FILLED, REJECTED
from shared.domain.commands import NewOrder

PREFIX = "ext:"
PLACE = "place"
CANCEL = "cancel"
REPLACE = "replace"


def is_external(venue: str) -> bool:
    return venue.startswith(PREFIX)


@final
class ExternalOrder:
    """One order at an external venue, as far as the venue confirmed it."""

    def __init__(self, c: NewOrder) -> None:
        self.order_id = c.order_id
        self.account_id = c.account_id
        self.venue = c.venue[len(PREFIX) :]
        self.side = c.side
        self.order_type = c.order_type
        self.time_in_force = c.time_in_force
        self.quantity = c.quantity
        self.price = c.price
        self.stop_price = c.stop_price
        self.expire_at = c.expire_at
        self.cum_qty = 0
        self.leaves_qty = c.quantity
        self.order_seq = 0
        self.status = ""  # "" until the venue's first word, then the order's status
        self.cl_ord_id = c.order_id  # the last ClOrdID the venue accepted
        self.requests = 0  # cancels and replaces issued
        self.pending = ""  # the ClOrdID of the request awaiting an answer ("" none)
        self.pending_kind = ""
        self.pending_reason = ""  # a pending cancel's reason (client, halt, account)
        self.pending_quantity = 0  # a pending replace's new total, prices and client id
        self.pending_price = 0
        self.pending_stop = 0
        self.pending_client_id = ""
        self.venue_order_id = ""
        self.issued_at = 0  # the time of its last request (a new order's, else the pending one)
        # The reason of a halt or cancel-all that still owes the order a cancel: one that
        # could not go yet (a request was pending) or went before the venue acknowledged
        # the order (it is sent again once acknowledged if the venue refused it). "" none.
        self.cancel_owed = ""
        self.ended_at = 0  # when it ended (the ending command's ts), 0 while open

    @property
    def open(self) -> bool:
        return self.status not in (FILLED, CANCELED, EXPIRED, REJECTED)

    @staticmethod
    def from_dict(data: dict[str, object]) -> ExternalOrder:
        o = ExternalOrder(
            NewOrder(
                "",
                0,
                "",
                str(data["order_id"]),
                str(data["account_id"]),
                str(data["side"]),
                str(data["order_type"]),
                str(data["time_in_force"]),
                int(str(data["quantity"])),
                venue=PREFIX + str(data["venue"]),
            )
        )
        for name in _INTS:
            setattr(o, name, int(str(data.get(name, 0))))
        for name in _STRS:
            setattr(o, name, str(data.get(name, "")))
        return o


_INTS = (
    "quantity",
    "price",
    "stop_price",
    "expire_at",
    "cum_qty",
    "leaves_qty",
    "order_seq",
    "requests",
    "pending_quantity",
    "pending_price",
    "pending_stop",
    "issued_at",
    "ended_at",
)
_STRS = (
    "order_id",
    "account_id",
    "venue",
    "side",
    "order_type",
    "time_in_force",
    "status",
    "cl_ord_id",
    "pending",
    "pending_kind",
    "pending_reason",
    "pending_client_id",
    "venue_order_id",
    "cancel_owed",
)


def order_fields(o: ExternalOrder) -> dict[str, object]:
    data: dict[str, object] = {name: getattr(o, name) for name in _STRS}
    data.update({name: getattr(o, name) for name in _INTS})
    return data
