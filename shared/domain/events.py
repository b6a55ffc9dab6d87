"""Events: past-tense facts the matcher emits, one per state change.

Every event carries the instrument `symbol`, the per-instrument sequence number `seq`
(contiguous from 1) and `ts`, the timestamp of the command that caused it (nanoseconds
since the epoch; never the wall clock). Order events also carry the order's own
sequence `order_seq` (contiguous from 1 per order) and the order `status` after the event.

Prices and quantities are integer ticks and lots; a price of 0 means "none" (market).
Fees are integers in units of tick * lot / 1,000,000 (see `numbers.fee_to_str`).

These classes are compiled by mypyc with the engine (see setup.py): they are immutable
(`Final` attributes), slotted and cheap to build on the hot path.
"""

from __future__ import annotations

from typing import ClassVar, Final, final


class Event:
    """Base of every event: instrument, sequence and command timestamp."""

    FIELDS: ClassVar[tuple[str, ...]] = ("symbol", "seq", "ts")
    KIND: ClassVar[str] = "event"

    def __init__(self, symbol: str, seq: int, ts: int) -> None:
        self.symbol: Final = symbol
        self.seq: Final = seq
        self.ts: Final = ts

    def values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"kind": self.KIND}
        for name in self.FIELDS:
            data[name] = getattr(self, name)
        return data

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Event) and self.KIND == other.KIND and self.values() == other.values()
        )

    def __hash__(self) -> int:
        return hash((self.KIND, self.values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.FIELDS)
        return f"{type(self).__name__}({inner})"


class OrderEvent(Event):
    """An event about one order."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        *Event.FIELDS,
        "order_id",
        "account_id",
        "order_seq",
        "status",
    )

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        order_seq: int,
        status: str,
    ) -> None:
        super().__init__(symbol, seq, ts)
        self.order_id: Final = order_id
        self.account_id: Final = account_id
        self.order_seq: Final = order_seq
        self.status: Final = status


@final
class OrderAccepted(OrderEvent):
    """The matcher took the order: it is now working (resting, pending a trigger, or
    matching), or `held` (a contingent leg: nothing live until its entry fills).

    `leaves_qty` is the live part, `held_qty` the part not live yet; an entry written before
    they existed decodes as a simple order (`leaves_qty` = quantity, `held_qty` = 0).
    A trailing stop's `stop_price` is its first stop (0: no trade to trail yet).

    The market at acceptance, before the order's own matching (its arrival price: see
    `shared.domain.order.arrival_half_ticks`): `bid_px` / `ask_px` the book's best bid and
    ask, `last_trade_px` the last trade of the instrument's book, `ref_px` the fill
    simulator's reference price (paper orders only); ticks, 0 = none (and in entries written
    before they existed)."""

    KIND: ClassVar[str] = "order_accepted"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *OrderEvent.FIELDS,
        "side",
        "order_type",
        "quantity",
        "price",
        "stop_price",
        "leaves_qty",
        "held_qty",
        "bid_px",
        "ask_px",
        "last_trade_px",
        "ref_px",
    )

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        order_seq: int,
        status: str,
        side: str,
        order_type: str,
        quantity: int,
        price: int,
        stop_price: int,
        leaves_qty: int = -1,
        held_qty: int = 0,
        bid_px: int = 0,
        ask_px: int = 0,
        last_trade_px: int = 0,
        ref_px: int = 0,
    ) -> None:
        super().__init__(symbol, seq, ts, order_id, account_id, order_seq, status)
        self.side: Final = side
        self.order_type: Final = order_type
        self.quantity: Final = quantity
        self.price: Final = price
        self.stop_price: Final = stop_price
        self.leaves_qty: Final = quantity - held_qty if leaves_qty < 0 else leaves_qty
        self.held_qty: Final = held_qty
        self.bid_px: Final = bid_px
        self.ask_px: Final = ask_px
        self.last_trade_px: Final = last_trade_px
        self.ref_px: Final = ref_px


@final
class OrderRejected(OrderEvent):
    """The matcher refused a new order; nothing of it ever rested or filled."""

    KIND: ClassVar[str] = "order_rejected"
    FIELDS: ClassVar[tuple[str, ...]] = (*OrderEvent.FIELDS, "reason", "text")

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        order_seq: int,
        status: str,
        reason: str,
        text: str = "",
    ) -> None:
        super().__init__(symbol, seq, ts, order_id, account_id, order_seq, status)
        self.reason: Final = reason
        self.text: Final = text  # an external venue's own words (its reject text)


@final
class OrderFilled(OrderEvent):
    """One side of a match. Both sides of a trade share `trade_seq` (the maker fill's seq)."""

    KIND: ClassVar[str] = "order_filled"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *OrderEvent.FIELDS,
        "side",
        "last_qty",
        "last_px",
        "leaves_qty",
        "cum_qty",
        "liquidity",
        "fee",
        "trade_seq",
    )

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        order_seq: int,
        status: str,
        side: str,
        last_qty: int,
        last_px: int,
        leaves_qty: int,
        cum_qty: int,
        liquidity: str,
        fee: int,
        trade_seq: int,
    ) -> None:
        super().__init__(symbol, seq, ts, order_id, account_id, order_seq, status)
        self.side: Final = side
        self.last_qty: Final = last_qty
        self.last_px: Final = last_px
        self.leaves_qty: Final = leaves_qty
        self.cum_qty: Final = cum_qty
        self.liquidity: Final = liquidity
        self.fee: Final = fee
        self.trade_seq: Final = trade_seq


@final
class OrderCanceled(OrderEvent):
    """The order's open quantity was canceled (by request, IOC/FOK/market rules, STP, halt,
    or a contingent rule); `canceled_qty` is all of it, a held part included."""

    KIND: ClassVar[str] = "order_canceled"
    FIELDS: ClassVar[tuple[str, ...]] = (*OrderEvent.FIELDS, "canceled_qty", "cum_qty", "reason")

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        order_seq: int,
        status: str,
        canceled_qty: int,
        cum_qty: int,
        reason: str,
    ) -> None:
        super().__init__(symbol, seq, ts, order_id, account_id, order_seq, status)
        self.canceled_qty: Final = canceled_qty
        self.cum_qty: Final = cum_qty
        self.reason: Final = reason


@final
class OrderExpired(OrderEvent):
    """A DAY or GTD order reached its expiry; its open quantity is canceled."""

    KIND: ClassVar[str] = "order_expired"
    FIELDS: ClassVar[tuple[str, ...]] = (*OrderEvent.FIELDS, "canceled_qty", "cum_qty", "reason")

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        order_seq: int,
        status: str,
        canceled_qty: int,
        cum_qty: int,
        reason: str,
    ) -> None:
        super().__init__(symbol, seq, ts, order_id, account_id, order_seq, status)
        self.canceled_qty: Final = canceled_qty
        self.cum_qty: Final = cum_qty
        self.reason: Final = reason


@final
class OrderReplaced(OrderEvent):
    """The order's quantity (new total, filled part included) and/or prices changed;
    a trailing stop's trail (`trail_amount` or `trail_cbps`, both 0 for other orders and
    in entries written before they existed) as it now stands."""

    KIND: ClassVar[str] = "order_replaced"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *OrderEvent.FIELDS,
        "quantity",
        "price",
        "stop_price",
        "leaves_qty",
        "cum_qty",
        "priority_kept",
        "client_order_id",
        "trail_amount",
        "trail_cbps",
    )

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        order_seq: int,
        status: str,
        quantity: int,
        price: int,
        stop_price: int,
        leaves_qty: int,
        cum_qty: int,
        priority_kept: bool,
        client_order_id: str,
        trail_amount: int = 0,
        trail_cbps: int = 0,
    ) -> None:
        super().__init__(symbol, seq, ts, order_id, account_id, order_seq, status)
        self.quantity: Final = quantity
        self.price: Final = price
        self.stop_price: Final = stop_price
        self.leaves_qty: Final = leaves_qty
        self.cum_qty: Final = cum_qty
        self.priority_kept: Final = priority_kept
        self.client_order_id: Final = client_order_id
        self.trail_amount: Final = trail_amount
        self.trail_cbps: Final = trail_cbps


@final
class OrderTriggered(OrderEvent):
    """A stop order's trigger price was reached: it now works as `order_type`. `bid_px`,
    `ask_px`, `last_trade_px` and `ref_px`: the market then, before the order's own matching
    (as in OrderAccepted; its arrival price from here on)."""

    KIND: ClassVar[str] = "order_triggered"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *OrderEvent.FIELDS,
        "order_type",
        "trigger_px",
        "bid_px",
        "ask_px",
        "last_trade_px",
        "ref_px",
    )

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        order_seq: int,
        status: str,
        order_type: str,
        trigger_px: int,
        bid_px: int = 0,
        ask_px: int = 0,
        last_trade_px: int = 0,
        ref_px: int = 0,
    ) -> None:
        super().__init__(symbol, seq, ts, order_id, account_id, order_seq, status)
        self.order_type: Final = order_type
        self.trigger_px: Final = trigger_px
        self.bid_px: Final = bid_px
        self.ask_px: Final = ask_px
        self.last_trade_px: Final = last_trade_px
        self.ref_px: Final = ref_px


@final
class CancelRejected(OrderEvent):
    """A cancel request was refused; the order (if any) is unchanged and keeps `status`."""

    KIND: ClassVar[str] = "cancel_rejected"
    FIELDS: ClassVar[tuple[str, ...]] = (*OrderEvent.FIELDS, "reason", "text")

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        order_seq: int,
        status: str,
        reason: str,
        text: str = "",
    ) -> None:
        super().__init__(symbol, seq, ts, order_id, account_id, order_seq, status)
        self.reason: Final = reason
        self.text: Final = text  # an external venue's own words (its reject text)


@final
class ReplaceRejected(OrderEvent):
    """A replace request was refused; the order (if any) is unchanged and keeps `status`."""

    KIND: ClassVar[str] = "replace_rejected"
    FIELDS: ClassVar[tuple[str, ...]] = (*OrderEvent.FIELDS, "reason", "text")

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        order_seq: int,
        status: str,
        reason: str,
        text: str = "",
    ) -> None:
        super().__init__(symbol, seq, ts, order_id, account_id, order_seq, status)
        self.reason: Final = reason
        self.text: Final = text  # an external venue's own words (its reject text)


@final
class OrderRestated(OrderEvent):
    """FIX ExecType D: the order's open quantity changed without a fill and without a
    client request (`reason` says why: LEG_RELEASED, OCO_SIBLING_FILLED, PARENT_CANCELED,
    PARENT_REPLACED, REDUCE_ONLY_TRIMMED, SELF_TRADE_DECREMENTED). `canceled_qty` is what
    this event canceled (>= 0); the order stays open (when nothing would be left open, the
    venue emits OrderCanceled with the same reason instead). Afterwards
    `cum_qty + leaves_qty + canceled + held_qty == quantity` still holds."""

    KIND: ClassVar[str] = "order_restated"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *OrderEvent.FIELDS,
        "quantity",
        "leaves_qty",
        "cum_qty",
        "held_qty",
        "canceled_qty",
        "reason",
    )

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        order_seq: int,
        status: str,
        quantity: int,
        leaves_qty: int,
        cum_qty: int,
        held_qty: int,
        canceled_qty: int,
        reason: str,
    ) -> None:
        super().__init__(symbol, seq, ts, order_id, account_id, order_seq, status)
        self.quantity: Final = quantity
        self.leaves_qty: Final = leaves_qty
        self.cum_qty: Final = cum_qty
        self.held_qty: Final = held_qty
        self.canceled_qty: Final = canceled_qty
        self.reason: Final = reason


@final
class TrailingStopMoved(OrderEvent):
    """A trailing stop's stop price followed the market: `high_water_mark` is the best price
    reached since it went live (the highest for a sell, the lowest for a buy)."""

    KIND: ClassVar[str] = "trailing_stop_moved"
    FIELDS: ClassVar[tuple[str, ...]] = (*OrderEvent.FIELDS, "stop_price", "high_water_mark")

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        order_seq: int,
        status: str,
        stop_price: int,
        high_water_mark: int,
    ) -> None:
        super().__init__(symbol, seq, ts, order_id, account_id, order_seq, status)
        self.stop_price: Final = stop_price
        self.high_water_mark: Final = high_water_mark


@final
class InstrumentConfigured(Event):
    """The venues apply the instrument's new fees from this point of its sequence on."""

    KIND: ClassVar[str] = "instrument_configured"
    FIELDS: ClassVar[tuple[str, ...]] = (*Event.FIELDS, "maker_fee_cbps", "taker_fee_cbps")

    def __init__(
        self, symbol: str, seq: int, ts: int, maker_fee_cbps: int, taker_fee_cbps: int
    ) -> None:
        super().__init__(symbol, seq, ts)
        self.maker_fee_cbps: Final = maker_fee_cbps
        self.taker_fee_cbps: Final = taker_fee_cbps


@final
class ReferencePricesSet(Event):
    """The fill simulator's reference price source changed (SetReferencePrices): `source`
    "walk" or "file", `start_price` where it starts (ticks), `points` the file's points."""

    KIND: ClassVar[str] = "reference_prices_set"
    FIELDS: ClassVar[tuple[str, ...]] = (*Event.FIELDS, "source", "start_price", "points")

    def __init__(
        self, symbol: str, seq: int, ts: int, source: str, start_price: int, points: int
    ) -> None:
        super().__init__(symbol, seq, ts)
        self.source: Final = source
        self.start_price: Final = start_price
        self.points: Final = points


@final
class ShadowFilled(Event):
    """Shadow mode: the fill simulator filled its copy of an internal order (unseen by the
    book, nobody's trade): `last_qty` at `last_px`, `cum_qty` of its copy so far, `fee` at
    the simulator's rates. Not an order event: the order's own state does not move."""

    KIND: ClassVar[str] = "shadow_filled"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *Event.FIELDS,
        "order_id",
        "account_id",
        "last_qty",
        "last_px",
        "cum_qty",
        "leaves_qty",
        "fee",
    )

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        last_qty: int,
        last_px: int,
        cum_qty: int,
        leaves_qty: int,
        fee: int,
    ) -> None:
        super().__init__(symbol, seq, ts)
        self.order_id: Final = order_id
        self.account_id: Final = account_id
        self.last_qty: Final = last_qty
        self.last_px: Final = last_px
        self.cum_qty: Final = cum_qty
        self.leaves_qty: Final = leaves_qty
        self.fee: Final = fee


@final
class ShadowClosed(Event):
    """Shadow mode: the simulator's copy of an internal order ended unfilled in part
    (`canceled_qty`, `reason` as OrderCanceled's / OrderExpired's)."""

    KIND: ClassVar[str] = "shadow_closed"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *Event.FIELDS,
        "order_id",
        "account_id",
        "cum_qty",
        "canceled_qty",
        "reason",
    )

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        order_id: str,
        account_id: str,
        cum_qty: int,
        canceled_qty: int,
        reason: str,
    ) -> None:
        super().__init__(symbol, seq, ts)
        self.order_id: Final = order_id
        self.account_id: Final = account_id
        self.cum_qty: Final = cum_qty
        self.canceled_qty: Final = canceled_qty
        self.reason: Final = reason


@final
class TradingStateChanged(Event):
    """The instrument's trading state changed (kill switch)."""

    KIND: ClassVar[str] = "trading_state_changed"
    FIELDS: ClassVar[tuple[str, ...]] = (*Event.FIELDS, "state")

    def __init__(self, symbol: str, seq: int, ts: int, state: str) -> None:
        super().__init__(symbol, seq, ts)
        self.state: Final = state


@final
class NothingChanged(Event):
    """A command from the queue was handled and changed nothing (`reason` ""), or could not
    be run (`reason`, e.g. ENGINE_ERROR). It makes the command a journal entry of its own,
    so a redelivery is recognised however late it comes."""

    KIND: ClassVar[str] = "nothing_changed"
    FIELDS: ClassVar[tuple[str, ...]] = (*Event.FIELDS, "command_id", "reason")

    def __init__(self, symbol: str, seq: int, ts: int, command_id: str, reason: str) -> None:
        super().__init__(symbol, seq, ts)
        self.command_id: Final = command_id
        self.reason: Final = reason


@final
class VenueRequestIssued(Event):
    """A request for an external venue (issue #18): the outbox sends it to the venue's
    gateway once journaled (and again after a recovery: the gateway's bus and the venue
    drop a repeat by `cl_ord_id`). `request_kind` is "place", "cancel" or "replace"; a new
    order's `cl_ord_id` is the order id, a cancel's or replace's `<order_id>.<n>`, naming
    the order by `orig_cl_ord_id` (the last one the venue accepted). Quantities in lots,
    prices in ticks; `quantity` of a replace is the new total. No order sequence: the
    order's own events come with the venue's answers."""

    KIND: ClassVar[str] = "venue_request_issued"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *Event.FIELDS,
        "venue",
        "request_kind",
        "order_id",
        "account_id",
        "cl_ord_id",
        "orig_cl_ord_id",
        "side",
        "order_type",
        "time_in_force",
        "quantity",
        "price",
        "stop_price",
        "expire_at",
        "venue_order_id",
    )

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        venue: str,
        request_kind: str,
        order_id: str,
        account_id: str,
        cl_ord_id: str,
        orig_cl_ord_id: str,
        side: str,
        order_type: str,
        time_in_force: str,
        quantity: int,
        price: int,
        stop_price: int,
        expire_at: int,
        venue_order_id: str,
    ) -> None:
        super().__init__(symbol, seq, ts)
        self.venue: Final = venue
        self.request_kind: Final = request_kind
        self.order_id: Final = order_id
        self.account_id: Final = account_id
        self.cl_ord_id: Final = cl_ord_id
        self.orig_cl_ord_id: Final = orig_cl_ord_id
        self.side: Final = side
        self.order_type: Final = order_type
        self.time_in_force: Final = time_in_force
        self.quantity: Final = quantity
        self.price: Final = price
        self.stop_price: Final = stop_price
        self.expire_at: Final = expire_at
        self.venue_order_id: Final = venue_order_id


@final
class VenueAlert(Event):
    """An external venue said something the instrument could not apply, for admins (the
    admin feed and the audit log): `what` is UNKNOWN_VENUE_ORDER (an order the venue
    knows and we do not), VENUE_REPORT_OFF_GRID, VENUE_TRADE_CORRECTED (a bust or a
    correction), VENUE_FILLS_MISSING (a status answer shows more filled than we know)."""

    KIND: ClassVar[str] = "venue_alert"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *Event.FIELDS,
        "venue",
        "what",
        "order_id",
        "cl_ord_id",
        "exec_id",
        "report_kind",
        "text",
    )

    def __init__(
        self,
        symbol: str,
        seq: int,
        ts: int,
        venue: str,
        what: str,
        order_id: str,
        cl_ord_id: str,
        exec_id: str,
        report_kind: str,
        text: str,
    ) -> None:
        super().__init__(symbol, seq, ts)
        self.venue: Final = venue
        self.what: Final = what
        self.order_id: Final = order_id
        self.cl_ord_id: Final = cl_ord_id
        self.exec_id: Final = exec_id
        self.report_kind: Final = report_kind
        self.text: Final = text


EVENT_TYPES: dict[str, type[Event]] = {
    cls.KIND: cls
    for cls in (
        OrderAccepted,
        OrderRejected,
        OrderFilled,
        OrderCanceled,
        OrderExpired,
        OrderReplaced,
        OrderTriggered,
        CancelRejected,
        ReplaceRejected,
        OrderRestated,
        TrailingStopMoved,
        InstrumentConfigured,
        ReferencePricesSet,
        ShadowFilled,
        ShadowClosed,
        TradingStateChanged,
        NothingChanged,
        VenueRequestIssued,
        VenueAlert,
    )
}


def event_from_dict(data: dict[str, object]) -> Event:
    """Rebuild an event from `Event.to_dict()` output (journal and bus bodies). Fields are
    appended only, with defaults, so an entry that lacks the newest ones still decodes."""
    cls = EVENT_TYPES[str(data["kind"])]
    return cls(*_leading_fields(cls.FIELDS, data))  # type: ignore[arg-type]


def _leading_fields(names: tuple[str, ...], data: dict[str, object]) -> list[object]:
    """The values of `names` up to the first one `data` lacks. A body may lack only the
    newest fields (they have defaults; the constructor refuses a missing older one)."""
    values: list[object] = []
    for i, name in enumerate(names):
        if name not in data:
            if any(later in data for later in names[i + 1 :]):
                raise ValueError(f"{data.get('kind')} lacks {name}")
            break
        values.append(data[name])
    return values
