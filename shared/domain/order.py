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

from shared.domain.enums import OrderClass, OrderStatus, OrderType, Side, TimeInForce
from shared.domain.events import (
    CancelRejected,
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderRestated,
    OrderTriggered,
    ReplaceRejected,
    TrailingStopMoved,
)
from shared.domain.paper_settings import SimulatorSettings
from shared.domain.shadow import ShadowRecord

S = OrderStatus
_WORKING = {S.HELD, S.NEW, S.PARTIALLY_FILLED}
_REQUESTED = {S.PENDING_CANCEL, S.PENDING_REPLACE}  # a client request awaits the matcher
_ENGINE_OUTCOMES = {S.HELD, S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}

# The strict transition table: status -> the statuses it may move to. It is the one gate:
# the services ask it (through `apply` or `check`) rather than keep lists of their own.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_NEW: frozenset(_ENGINE_OUTCOMES | _REQUESTED | {S.REJECTED}),
    # held: a contingent leg with nothing live yet; it goes live (new) as its entry fills,
    # and back to held when an OCO sibling's fill takes its live part away.
    S.HELD: frozenset(_ENGINE_OUTCOMES | _REQUESTED | {S.REJECTED}),
    S.NEW: frozenset(_ENGINE_OUTCOMES | _REQUESTED),
    S.PARTIALLY_FILLED: frozenset(
        {S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED} | _REQUESTED
    ),
    # A request may be answered by the matcher rejecting the order itself (e.g. a halt
    # that landed before the order did), so rejected is reachable from the pending states.
    S.PENDING_CANCEL: frozenset(_ENGINE_OUTCOMES | {S.PENDING_CANCEL, S.REJECTED}),
    # One replace at a time (as in FIX): a second one could be lost when the first's
    # answer clears the order's pending request. A cancel may overtake it.
    S.PENDING_REPLACE: frozenset(_ENGINE_OUTCOMES | {S.PENDING_CANCEL, S.REJECTED}),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}


def _listed(statuses: set[OrderStatus]) -> tuple[OrderStatus, ...]:
    # In the enum's order: the stores spell their queries and indexes from these lists, and
    # SQLite matches a partial index only when the query spells its condition the same way.
    return tuple(status for status in OrderStatus if status in statuses)


TERMINAL_STATUSES = _listed({s for s, allowed in TRANSITIONS.items() if not allowed})
"""Statuses an order never leaves."""

OPEN_STATUSES = _listed(set(TRANSITIONS) - set(TERMINAL_STATUSES))
"""Orders that may still trade: they count as open in the account's risk ledger."""

PENDING_STATUSES = _listed({S.PENDING_NEW} | _REQUESTED)
"""Orders waiting for the matcher's answer: the pending-command outbox (`list_pending`)."""

CANCELABLE_STATUSES = _listed(
    {s for s in OPEN_STATUSES if S.PENDING_CANCEL in TRANSITIONS[s]} - {S.PENDING_CANCEL}
)
"""Open orders a cancel-all marks (one already pending cancel has its cancel on the way)."""


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


def _requested_status(request: ClientRequest) -> OrderStatus:
    return S.PENDING_CANCEL if isinstance(request, CancelRequested) else S.PENDING_REPLACE


@dataclass(slots=True)
class Order:
    """One order's state. Quantities in lots, prices in ticks (None = not set); names as in
    FIX (cum_qty, leaves_qty, avg_px). The API and the stored documents keep their own
    names (filled_quantity, leaves_quantity, ...): see the views and the store codec.

    `cum_qty + leaves_qty + canceled_qty + held_qty == quantity` always: `leaves_qty` is
    the live part, `held_qty` the part of a contingent leg not live yet. The instructions
    (`display_qty`, `post_only`, `reduce_only`, `trail_amount`, `trail_cbps`) and the
    group (`order_class`, `leg`, `parent_order_id`) are set at intake and never change;
    a trailing stop's `stop_price` and `high_water_mark` follow the market."""

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
    cum_qty: int = 0
    leaves_qty: int = 0
    canceled_qty: int = 0
    filled_notional: int = 0
    fees: int = 0
    reject_reason: str | None = None
    updated_at: int = 0
    seq: int = 0
    version: int = 0
    dispatched: bool = False
    client_order_id_chain: list[str] = field(default_factory=list)
    pending_command: dict[str, object] | None = None
    held_qty: int = 0
    display_qty: int = 0
    post_only: bool = False
    reduce_only: bool = False
    trail_amount: int = 0
    trail_cbps: int = 0
    high_water_mark: int | None = None
    order_class: OrderClass = OrderClass.SIMPLE
    leg: str = ""
    parent_order_id: str = ""
    reserved: Decimal = Decimal(0)  # credit it holds in its account's risk ledger
    # Its history: the instrument seqs of the matcher events applied (its audit trail, read
    # from the journal), and when the matcher ran the commands that accepted it, filled it
    # first and ended it (ns; 0: not yet, or not recorded). See `apply`'s `processed_at`.
    event_seqs: list[int] = field(default_factory=list)
    accepted_at: int = 0
    first_fill_at: int = 0
    completed_at: int = 0
    # Where it works: "" the internal engine or the paper simulator (by the account's
    # type), or "ext:<venue>" an external venue (set at intake, never changed); and the
    # venue's own words when it refused the order or a request of its owner.
    venue: str = ""
    reject_text: str = ""
    # Its arrival price in half ticks (0: not known): the market the matcher reported when
    # it accepted the order, or when it triggered a stop (see `arrival_half_ticks`).
    arrival_half_ticks: int = 0
    # A paper order's own fill simulator settings (its account's when placed; None: the
    # instrument's defaults), sent on its NewOrder.
    simulator: SimulatorSettings | None = None
    # Shadow mode (its account's flag when placed): its copy on the fill simulator.
    shadow: ShadowRecord | None = None

    def __post_init__(self) -> None:
        if self.leaves_qty == 0 and self.held_qty == 0 and self.status == S.PENDING_NEW:
            self.leaves_qty = self.quantity  # a new order is all live (a held leg is not)
        if self.updated_at == 0:
            self.updated_at = self.created_at

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def avg_px(self) -> Decimal | None:
        """Average fill price in ticks (exact decimal), None before the first fill."""
        if self.cum_qty == 0:
            return None
        return Decimal(self.filled_notional) / Decimal(self.cum_qty)

    def check(self, request: ClientRequest) -> None:
        """Raise InvalidTransition when `apply(request)` would refuse it; changes nothing."""
        self._check_transition(_requested_status(request))

    def apply(self, event: OrderEvent | ClientRequest, processed_at: int = 0) -> None:
        """The only way an order changes. Raises an `OrderStateError` and changes nothing
        when the event is a repeat, comes too early, or breaks the transition table.
        `processed_at`: when the matcher ran the command behind the event (its journal
        entry's time; 0: unknown), which dates the order's acceptance, first fill and end."""
        if isinstance(event, (CancelRequested, ReplaceRequested)):
            target = _requested_status(event)
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
        if target not in _REQUESTED:
            self.pending_command = None  # answered (or ended): never resend it

    def _target_status(self, event: OrderEvent) -> OrderStatus:
        reported = OrderStatus(event.status)
        # A request still in flight keeps its pending status until the matcher answers it.
        answered = isinstance(
            event,
            (OrderCanceled, OrderExpired, OrderReplaced, CancelRejected, ReplaceRejected),
        )
        if self.status in _REQUESTED and reported in _WORKING and not answered:
            return self.status
        replace_answer = isinstance(event, (OrderReplaced, ReplaceRejected))
        if self.status is S.PENDING_CANCEL and reported in _WORKING and replace_answer:
            # The answer to a replace sent before the cancel (a pending cancel cannot be
            # replaced, and one instrument's commands are handled in order): the cancel
            # is still in flight.
            return self.status
        return reported

    def _record(self, event: OrderEvent, target: OrderStatus, processed_at: int) -> None:
        self.event_seqs.append(event.seq)
        shadow = self.shadow
        if shadow is not None:  # the real order's times, to compare its copy's with
            if isinstance(event, OrderFilled) and not shadow.real_first_fill_ts:
                shadow.real_first_fill_ts = event.ts
            if target in TERMINAL_STATUSES and not shadow.real_done_ts:
                shadow.real_done_ts = event.ts
        if not processed_at:
            return
        if isinstance(event, OrderAccepted) and not self.accepted_at:
            self.accepted_at = processed_at
        elif isinstance(event, OrderFilled) and not self.first_fill_at:
            self.first_fill_at = processed_at
        if target in TERMINAL_STATUSES and not self.completed_at:
            self.completed_at = processed_at

    def _arrive(self, bid_px: int, ask_px: int, last_trade_px: int, ref_px: int) -> None:
        arrival = arrival_half_ticks(bid_px, ask_px, last_trade_px, ref_px)
        if arrival:
            self.arrival_half_ticks = arrival

    def _check_transition(self, target: OrderStatus) -> None:
        if target not in TRANSITIONS[self.status]:
            raise InvalidTransition(self.status, target)

    def _absorb(self, event: OrderEvent) -> None:
        if isinstance(event, OrderFilled):
            self.cum_qty = event.cum_qty
            self.leaves_qty = event.leaves_qty
            self.filled_notional += event.last_qty * event.last_px
            self.fees += event.fee
        elif isinstance(event, (OrderCanceled, OrderExpired)):
            self.canceled_qty += event.canceled_qty  # the live and the held part
            self.leaves_qty = 0
            self.held_qty = 0
            self.reject_reason = event.reason
        elif isinstance(event, OrderRejected):
            self.canceled_qty = self.quantity - self.cum_qty
            self.leaves_qty = 0
            self.held_qty = 0
            self.reject_reason = event.reason
            self.reject_text = event.text
        elif isinstance(event, OrderRestated):
            self.quantity = event.quantity
            self.leaves_qty = event.leaves_qty
            self.held_qty = event.held_qty
            self.canceled_qty += event.canceled_qty
        elif isinstance(event, TrailingStopMoved):
            self.stop_price = event.stop_price or None
            self.high_water_mark = event.high_water_mark or None
        elif isinstance(event, OrderReplaced):
            self.quantity = event.quantity
            self.leaves_qty = event.leaves_qty
            self.limit_price = event.price or None
            self.stop_price = event.stop_price or None
            if event.trail_amount or event.trail_cbps:
                self.trail_amount, self.trail_cbps = event.trail_amount, event.trail_cbps
            if event.client_order_id and event.client_order_id != self.client_order_id:
                self.client_order_id_chain.append(self.client_order_id)
                self.client_order_id = event.client_order_id
        elif isinstance(event, (CancelRejected, ReplaceRejected)):
            self.reject_reason = event.reason
            self.reject_text = event.text
        elif isinstance(event, OrderTriggered):
            # The order keeps its type (FIX OrdType); it arrives at the market only now.
            self._arrive(event.bid_px, event.ask_px, event.last_trade_px, event.ref_px)
        elif isinstance(event, OrderAccepted):
            self._arrive(event.bid_px, event.ask_px, event.last_trade_px, event.ref_px)
            self.leaves_qty = event.leaves_qty
            self.held_qty = event.held_qty
            if self.type is OrderType.TRAILING_STOP:
                self.stop_price = event.stop_price or None


def arrival_half_ticks(bid_px: int, ask_px: int, last_trade_px: int, ref_px: int) -> int:
    """An order's arrival price in half ticks (the mid of an odd spread is a half tick) from
    the market an OrderAccepted / OrderTriggered reports: the fill simulator's reference
    price (paper), else the mid of a two-sided book, else the last trade; 0 when none."""
    if ref_px > 0:
        return 2 * ref_px
    if bid_px > 0 and ask_px > 0:
        return bid_px + ask_px
    if last_trade_px > 0:
        return 2 * last_trade_px
    return 0
