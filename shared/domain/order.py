"""The order aggregate: the queryable state of one order, changed only by `apply(event)`.

Engine events arrive with a per-order sequence (`order_seq`, contiguous from 1): a repeat
is refused with `DuplicateEvent` (so a fill is never applied twice), a gap with
`EventOutOfOrder` (the caller retries later). Client requests (cancel, replace) put the
order in a pending state through the `CancelRequested` / `ReplaceRequested` events, which
carry no engine sequence. Every status change goes through the strict transition table.

The pending-command outbox: a request event carries the command sent to the matcher
(`Command.to_dict()`, command id included) and the order keeps it in `pending_command`
until the matcher answers, so a command lost on the way can be sent again with the same
id. It is cleared as soon as the order leaves the pending state (or ends), so a request
that was answered can never be resent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from shared.domain.enums import TERMINAL_STATUSES, OrderStatus, OrderType, Side, TimeInForce
from shared.domain.events import (
    CancelRejected,
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderTriggered,
    ReplaceRejected,
)

S = OrderStatus
_OPEN = {S.NEW, S.PARTIALLY_FILLED}
_PENDING = {S.PENDING_CANCEL, S.PENDING_REPLACE}
_ENGINE_OUTCOMES = {S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}

# The strict transition table: status -> the statuses it may move to.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_NEW: frozenset(_ENGINE_OUTCOMES | _PENDING | {S.REJECTED}),
    S.NEW: frozenset(_ENGINE_OUTCOMES | _PENDING),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED} | _PENDING),
    # A request may be answered by the matcher rejecting the order itself (e.g. a halt
    # that landed before the order did), so rejected is reachable from the pending states.
    S.PENDING_CANCEL: frozenset(_ENGINE_OUTCOMES | {S.PENDING_CANCEL, S.REJECTED}),
    S.PENDING_REPLACE: frozenset(_ENGINE_OUTCOMES | _PENDING | {S.REJECTED}),
    S.SUSPENDED: frozenset(_ENGINE_OUTCOMES),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REPLACED: frozenset(),
}


class OrderStateError(Exception):
    """Base of the errors `apply` raises; the order is unchanged when one is raised."""


class DuplicateEvent(OrderStateError):
    """The event was applied before (its order_seq is not newer than the order's)."""


class EventOutOfOrder(OrderStateError):
    """An earlier event of this order has not been applied yet."""


class InvalidTransition(OrderStateError):
    """The transition table does not allow this change."""

    def __init__(self, current: OrderStatus, target: OrderStatus) -> None:
        super().__init__(f"{current} -> {target} is not allowed")
        self.current = current
        self.target = target


@dataclass(frozen=True, slots=True)
class CancelRequested:
    """A client asked to cancel; the order waits for the matcher's answer. `command` is
    the command sent (`to_dict()`), kept on the order until it is answered."""

    ts: int
    command: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class ReplaceRequested:
    """A client asked to replace; the order waits for the matcher's answer. `command` is
    the command sent (`to_dict()`), kept on the order until it is answered."""

    ts: int
    command: dict[str, object] | None = None


ClientRequest = CancelRequested | ReplaceRequested


@dataclass(slots=True)
class Order:
    """One order's state. Quantities in lots, prices in ticks (None = not set)."""

    order_id: str
    client_order_id: str
    account_id: str
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    quantity: int
    limit_price: int | None
    stop_price: int | None
    created_at: int
    expire_at: int | None = None
    status: OrderStatus = S.PENDING_NEW
    filled_quantity: int = 0
    leaves_quantity: int = 0
    canceled_quantity: int = 0
    filled_notional: int = 0
    fees: int = 0
    reject_reason: str | None = None
    updated_at: int = 0
    seq: int = 0
    version: int = 0
    dispatched: bool = False
    client_order_id_chain: list[str] = field(default_factory=list)
    pending_command: dict[str, object] | None = None
    # Its history: the instrument seqs of the matcher events applied (its audit trail, read
    # from the journal), and when the matcher ran the commands that accepted it, filled it
    # first and ended it (ns; 0: not yet, or not recorded). See `apply`'s `processed_at`.
    event_seqs: list[int] = field(default_factory=list)
    accepted_at: int = 0
    first_fill_at: int = 0
    completed_at: int = 0

    def __post_init__(self) -> None:
        if self.leaves_quantity == 0 and self.status == S.PENDING_NEW:
            self.leaves_quantity = self.quantity
        if self.updated_at == 0:
            self.updated_at = self.created_at

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def average_fill_price(self) -> Decimal | None:
        """Average fill price in ticks (exact decimal), None before the first fill."""
        if self.filled_quantity == 0:
            return None
        return Decimal(self.filled_notional) / Decimal(self.filled_quantity)

    def apply(self, event: OrderEvent | ClientRequest, processed_at: int = 0) -> None:
        """The only way an order changes. Raises an `OrderStateError` and changes nothing
        when the event is a repeat, comes too early, or breaks the transition table.
        `processed_at`: when the matcher ran the command behind the event (its journal
        entry's time; 0: unknown), which dates the order's acceptance, first fill and end."""
        if isinstance(event, (CancelRequested, ReplaceRequested)):
            target = S.PENDING_CANCEL if isinstance(event, CancelRequested) else S.PENDING_REPLACE
            self._check_transition(target)
            self.status = target
            self.updated_at = event.ts
            self.pending_command = None if event.command is None else dict(event.command)
            return
        if event.order_id != self.order_id:
            raise OrderStateError(f"event for {event.order_id} applied to {self.order_id}")
        if event.order_seq <= self.seq:
            raise DuplicateEvent(f"order_seq {event.order_seq} already applied ({self.seq})")
        if event.order_seq != self.seq + 1:
            raise EventOutOfOrder(f"expected order_seq {self.seq + 1}, got {event.order_seq}")
        target = self._target_status(event)
        if target != self.status:
            self._check_transition(target)
        self._absorb(event)
        self._record(event, target, processed_at)
        self.status = target
        self.seq = event.order_seq
        self.updated_at = event.ts
        if target not in _PENDING:
            self.pending_command = None  # answered (or ended): never resend it

    def _target_status(self, event: OrderEvent) -> OrderStatus:
        reported = OrderStatus(event.status)
        # A request still in flight keeps its pending status until the matcher answers it.
        answered = isinstance(
            event,
            (OrderCanceled, OrderExpired, OrderReplaced, CancelRejected, ReplaceRejected),
        )
        if self.status in _PENDING and reported in _OPEN and not answered:
            return self.status
        replace_answer = isinstance(event, (OrderReplaced, ReplaceRejected))
        if self.status is S.PENDING_CANCEL and reported in _OPEN and replace_answer:
            # The answer to a replace sent before the cancel (a pending cancel cannot be
            # replaced, and one instrument's commands are handled in order): the cancel
            # is still in flight.
            return self.status
        return reported

    def _record(self, event: OrderEvent, target: OrderStatus, processed_at: int) -> None:
        self.event_seqs.append(event.seq)
        if not processed_at:
            return
        if isinstance(event, OrderAccepted) and not self.accepted_at:
            self.accepted_at = processed_at
        elif isinstance(event, OrderFilled) and not self.first_fill_at:
            self.first_fill_at = processed_at
        if target in TERMINAL_STATUSES and not self.completed_at:
            self.completed_at = processed_at

    def _check_transition(self, target: OrderStatus) -> None:
        if target not in TRANSITIONS[self.status]:
            raise InvalidTransition(self.status, target)

    def _absorb(self, event: OrderEvent) -> None:
        if isinstance(event, OrderFilled):
            self.filled_quantity = event.cum_qty
            self.leaves_quantity = event.leaves_qty
            self.filled_notional += event.last_qty * event.last_px
            self.fees += event.fee
        elif isinstance(event, (OrderCanceled, OrderExpired)):
            self.canceled_quantity += event.canceled_qty
            self.leaves_quantity = 0
            self.reject_reason = event.reason
        elif isinstance(event, OrderRejected):
            self.canceled_quantity = self.quantity - self.filled_quantity
            self.leaves_quantity = 0
            self.reject_reason = event.reason
        elif isinstance(event, OrderReplaced):
            self.quantity = event.quantity
            self.leaves_quantity = event.leaves_qty
            self.limit_price = event.price or None
            self.stop_price = event.stop_price or None
            if event.client_order_id and event.client_order_id != self.client_order_id:
                self.client_order_id_chain.append(self.client_order_id)
                self.client_order_id = event.client_order_id
        elif isinstance(event, (CancelRejected, ReplaceRejected)):
            self.reject_reason = event.reason
        elif isinstance(event, OrderTriggered):
            pass  # the order keeps its type (FIX OrdType); only its status history shows it
        elif isinstance(event, OrderAccepted):
            self.leaves_quantity = event.quantity
