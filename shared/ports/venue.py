"""The venue connector port: one connection to one external venue (a FIX session, a REST
broker account), behind one small Protocol the gateway drives.

Requests carry our ids as the venue's client ids: a new order's `cl_ord_id` is our order id,
so sending it twice can never make two orders at the venue; a cancel or replace has a
`cl_ord_id` of its own and names the order by `orig_cl_ord_id` (the last id the venue
accepted for it: the chain FIX calls OrigClOrdID).

Everything the venue says about an order arrives as a `VenueReport`, handed to the
connector's `ReportSink` one at a time, in the venue's order. A report counts as received
only when the sink returns: a connector that loses its process before that asks the venue
again (FIX: the session-level resend), so a sink sees every report at least once and must
treat a repeated `exec_id` as a repeat (`poss_dup` / `poss_resend` say the venue itself
thinks it may be one). Answers to `status()` and `open_orders()` (FIX ExecType I) describe
an order's state, never a fill.

Quantities and prices are Decimals in the venue's own units; nothing here is a binary float.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from shared.domain.enums import OrderType, Side, TimeInForce


class ConnectionState(StrEnum):
    """What `GET /api/admin/venues` shows for a venue's connection."""

    CONNECTED = "connected"
    CONNECTING = "connecting"
    DISCONNECTED = "disconnected"


class ReportKind(StrEnum):
    """What a report says happened: FIX 4.4 ExecType (150) by name, plus a cancel reject
    (OrderCancelReject, 35=9) and a request the venue never received (`undelivered`)."""

    NEW = "new"  # 0
    DONE_FOR_DAY = "done_for_day"  # 3
    CANCELED = "canceled"  # 4
    REPLACED = "replaced"  # 5
    PENDING_CANCEL = "pending_cancel"  # 6
    STOPPED = "stopped"  # 7
    REJECTED = "rejected"  # 8
    SUSPENDED = "suspended"  # 9
    PENDING_NEW = "pending_new"  # A
    CALCULATED = "calculated"  # B
    EXPIRED = "expired"  # C
    RESTATED = "restated"  # D
    PENDING_REPLACE = "pending_replace"  # E
    TRADE = "trade"  # F: a fill
    TRADE_CORRECT = "trade_correct"  # G
    TRADE_CANCEL = "trade_cancel"  # H
    STATUS = "status"  # I: an answer about state, never a fill
    CANCEL_REJECTED = "cancel_rejected"  # OrderCancelReject
    UNDELIVERED = "undelivered"  # the venue asked for a resend and we chose not to resend


class VenueOrdStatus(StrEnum):
    """FIX OrdStatus (39) by name, as the venue reports it."""

    NEW = "new"  # 0
    PARTIALLY_FILLED = "partially_filled"  # 1
    FILLED = "filled"  # 2
    DONE_FOR_DAY = "done_for_day"  # 3
    CANCELED = "canceled"  # 4
    PENDING_CANCEL = "pending_cancel"  # 6
    STOPPED = "stopped"  # 7
    REJECTED = "rejected"  # 8
    SUSPENDED = "suspended"  # 9
    PENDING_NEW = "pending_new"  # A
    CALCULATED = "calculated"  # B
    EXPIRED = "expired"  # C
    ACCEPTED_FOR_BIDDING = "accepted_for_bidding"  # D
    PENDING_REPLACE = "pending_replace"  # E
    UNKNOWN = "unknown"  # not given, or a value FIX 4.4 does not define


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """A new order. `transact_time` (ns) comes from the command, so the message content is
    the same every time the same command is sent."""

    cl_ord_id: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: Decimal
    transact_time: int
    price: Decimal | None = None
    stop_price: Decimal | None = None
    expire_at: int | None = None  # ns, for GTD
    account: str | None = None
    resend: bool = False  # a retry after an ambiguous outcome (FIX PossResend=Y)


@dataclass(frozen=True, slots=True)
class VenueCancel:
    """Cancel the order the venue knows as `orig_cl_ord_id` (this request's id: `cl_ord_id`)."""

    cl_ord_id: str
    orig_cl_ord_id: str
    symbol: str
    side: Side
    quantity: Decimal
    transact_time: int
    venue_order_id: str | None = None
    resend: bool = False


@dataclass(frozen=True, slots=True)
class VenueReplace:
    """Replace the order the venue knows as `orig_cl_ord_id`; `quantity` is the new total."""

    cl_ord_id: str
    orig_cl_ord_id: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: Decimal
    transact_time: int
    price: Decimal | None = None
    stop_price: Decimal | None = None
    venue_order_id: str | None = None
    resend: bool = False


VenueRequest = VenueOrder | VenueCancel | VenueReplace


@dataclass(frozen=True, slots=True)
class VenueReport:
    """One thing the venue said about one order.

    `exec_id` identifies the report at the venue (the fill's id for a TRADE; "0" for a status
    answer); `cl_ord_id` is the request it answers, `orig_cl_ord_id` the one it replaced or
    canceled. `last_qty`/`last_px` are the fill of a TRADE; `cum_qty`, `leaves_qty` and
    `avg_px` the order's totals after it. `text` is the venue's own words (a reject's
    reason); `reject_code` its code (OrdRejReason 103 or CxlRejReason 102) as sent.
    `poss_dup` / `poss_resend`: the venue flagged the message as possibly sent before.
    `seq_num` is the message's sequence number at the venue (0 where there is none)."""

    venue: str
    kind: ReportKind
    cl_ord_id: str
    exec_id: str
    ord_status: VenueOrdStatus
    symbol: str = ""
    side: Side | None = None
    venue_order_id: str = ""
    orig_cl_ord_id: str = ""
    order_qty: Decimal | None = None
    price: Decimal | None = None
    last_qty: Decimal = Decimal(0)
    last_px: Decimal = Decimal(0)
    cum_qty: Decimal = Decimal(0)
    leaves_qty: Decimal = Decimal(0)
    avg_px: Decimal = Decimal(0)
    text: str = ""
    reject_code: str = ""
    exec_ref_id: str = ""
    request_id: str = ""  # OrdStatusReqID / MassStatusReqID of a status answer
    transact_time: int = 0  # ns, as the venue stamped it (0: not given)
    poss_dup: bool = False
    poss_resend: bool = False
    seq_num: int = 0

    @property
    def is_fill(self) -> bool:
        """A new execution (ExecType F). Status answers, restatements and corrections
        are never fills."""
        return self.kind is ReportKind.TRADE and self.exec_id != "0"


ReportSink = Callable[[VenueReport], Awaitable[None]]
"""Takes one report; the report counts as received when the returned awaitable finishes.
Raising means "not received": the connector asks the venue for it again later."""


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """A connector's connection as the admin API shows it."""

    state: ConnectionState
    last_error: str | None = None
    since: int = 0  # ns: when the state last changed


class VenueUnavailable(Exception):
    """The venue cannot take requests now (not connected, or stopping); nothing was sent."""


class VenueThrottled(Exception):
    """The venue said to slow down; nothing was accepted. `retry_after` is in seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VenueConnector(Protocol):
    """One connection to one venue. `start` returns at once and connects in the background,
    reconnecting with back-off until `stop`; the requests raise VenueUnavailable while it
    is not connected."""

    @property
    def name(self) -> str:
        """The venue's name (as defined with `POST /api/admin/venues`)."""
        ...

    @property
    def connection(self) -> ConnectionStatus:
        """The connection's state now and the last error seen."""
        ...

    async def start(self, sink: ReportSink) -> None:
        """Begin connecting; every report goes to `sink`."""
        ...

    async def stop(self) -> None:
        """Log out and close the connection; idempotent."""
        ...

    async def wait_connected(self, timeout: float) -> bool:
        """Wait until connected (True) or `timeout` seconds passed (False)."""
        ...

    async def place(self, order: VenueOrder) -> None:
        """Send a new order (its answer arrives as a report)."""
        ...

    async def cancel(self, request: VenueCancel) -> None:
        """Ask to cancel an order (answered by a CANCELED or CANCEL_REJECTED report)."""
        ...

    async def replace(self, request: VenueReplace) -> None:
        """Ask to replace an order (answered by a REPLACED or CANCEL_REJECTED report)."""
        ...

    async def status(self, cl_ord_id: str, symbol: str, side: Side, timeout: float) -> VenueReport:
        """The venue's view of one order (kind STATUS; ord_status REJECTED with
        reject_code "5" when it does not know it). TimeoutError without an answer."""
        ...

    async def open_orders(self, timeout: float) -> list[VenueReport]:
        """The venue's view of every open order of ours (kind STATUS), including orders
        we may not know. TimeoutError without a complete answer."""
        ...
