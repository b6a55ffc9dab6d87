"""Order requests as the API receives them, checked against the instrument into engine units."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared.domain import order_rules, reasons
from shared.domain.enums import OrderClass, OrderType, Side, TimeInForce
from shared.domain.instrument import Instrument
from shared.domain.numbers import GridError, percent_to_cbps, to_units
from shared.domain.sessions import WEEKDAYS, clock_str, is_open
from shared.services import codes
from shared.services.deps import Deps
from shared.services.errors import InvalidRequest

MAX_UNITS = 10**15
"""The most ticks or lots one value may have: far beyond any market, well inside int64."""

MAX_EXPIRY_NS = 366 * 86_400 * 1_000_000_000
"""GTD orders expire within a year (a typo in the year should not make a near-eternal order)."""


@dataclass(frozen=True, slots=True)
class TakeProfitRequest:
    """A contingent group's take-profit exit, as the client sent it."""

    limit_price: str
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class StopLossRequest:
    """A contingent group's stop-loss exit: a stop price (and a limit for a stop-limit), or
    a trail (a trailing stop)."""

    stop_price: str | None = None
    limit_price: str | None = None
    trail_amount: str | None = None
    trail_percent: str | None = None
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order (or a contingent group: its entry, or an OCO's take-profit, and its
    exits) as the client sent it: decimal strings, times in ns since the epoch."""

    symbol: str
    side: Side
    type: OrderType
    quantity: str
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price: str | None = None
    stop_price: str | None = None
    expire_at: int | None = None
    client_order_id: str | None = None
    trail_amount: str | None = None
    trail_percent: str | None = None
    display_quantity: str | None = None
    post_only: bool = False
    reduce_only: bool = False
    order_class: OrderClass = OrderClass.SIMPLE
    take_profit: TakeProfitRequest | None = None
    stop_loss: StopLossRequest | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """A new order on the instrument's grid: lots and ticks (None = no price); the trail in
    ticks or hundredths of a basis point (0 = none); `order_class` and `leg` place it in its
    group ("" for a simple order)."""

    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    quantity: int
    limit_price: int | None
    stop_price: int | None
    expire_at: int | None
    client_order_id: str | None
    display_qty: int = 0
    post_only: bool = False
    reduce_only: bool = False
    trail_amount: int = 0
    trail_cbps: int = 0
    order_class: OrderClass = OrderClass.SIMPLE
    leg: str = ""


async def instrument_for(deps: Deps, symbol: str) -> Instrument:
    """The instrument a request names; InvalidRequest (UNKNOWN_INSTRUMENT) when none."""
    instrument = await deps.store.instruments.get(symbol)
    if instrument is None or symbol == "*":
        raise InvalidRequest(reasons.UNKNOWN_INSTRUMENT, f"no instrument {symbol}", "symbol")
    return instrument


def check_session(instrument: Instrument, now: int) -> None:
    """InvalidRequest (MARKET_CLOSED) outside the instrument's trading session."""
    session = instrument.session
    if session is not None and not is_open(session, now):
        hours = f"{clock_str(session.open)}-{clock_str(session.close)} {session.timezone}"
        days = ",".join(WEEKDAYS[day] for day in session.days)
        detail = f"{instrument.symbol} trades {hours} ({days}); it is closed now"
        raise InvalidRequest(reasons.MARKET_CLOSED, detail, "symbol")


def refused(error: GridError) -> InvalidRequest:
    return InvalidRequest(error.reason, error.detail, error.field)


def lots(instrument: Instrument, field: str, value: str) -> int:
    """The quantity in lots; InvalidRequest off the grid, not positive, or absurdly large."""
    return _units(instrument.lots, field, value)


def ticks(instrument: Instrument, field: str, value: str) -> int:
    """The price in ticks; InvalidRequest off the grid, not positive, or absurdly large."""
    return _units(instrument.ticks, field, value)


def _units(on_grid: Callable[[str, str], int], field: str, value: str) -> int:
    try:
        units = on_grid(field, value)
    except GridError as error:
        raise refused(error) from None
    if units > MAX_UNITS:
        raise InvalidRequest(codes.VALUE_TOO_LARGE, f"{value} is too large", field)
    return units


def check_quantity_limits(instrument: Instrument, quantity: int) -> None:
    if quantity < instrument.min_quantity:
        minimum = instrument.quantity_str(instrument.min_quantity)
        raise InvalidRequest(reasons.QUANTITY_BELOW_MIN, f"the minimum is {minimum}", "quantity")
    if quantity > instrument.max_quantity:
        maximum = instrument.quantity_str(instrument.max_quantity)
        raise InvalidRequest(reasons.QUANTITY_ABOVE_MAX, f"the maximum is {maximum}", "quantity")


def _price(
    instrument: Instrument, field: str, value: str | None, needed: bool, missing: str
) -> int | None:
    if needed and value is None:
        raise InvalidRequest(missing, f"{field} is required for this order type", field)
    if not needed and value is not None:
        raise InvalidRequest(
            reasons.UNEXPECTED_PRICE, f"{field} is not allowed for this order type", field
        )
    return None if value is None else ticks(instrument, field, value)


def limit_price_of(
    instrument: Instrument, order_type: OrderType, value: str | None, field: str
) -> int | None:
    """The limit price in ticks: required for limit and stop-limit orders, else refused."""
    needed = order_rules.has_limit_price(order_type.value)
    return _price(instrument, field, value, needed, reasons.MISSING_LIMIT_PRICE)


def stop_price_of(
    instrument: Instrument, order_type: OrderType, value: str | None, field: str
) -> int | None:
    """The stop price in ticks: required for stop and stop-limit orders; a trailing stop's
    moves with the market and is never given."""
    needed = order_type is not OrderType.TRAILING_STOP and order_rules.has_stop_price(
        order_type.value
    )
    return _price(instrument, field, value, needed, reasons.MISSING_STOP_PRICE)


def trail_of(
    instrument: Instrument,
    order_type: OrderType,
    amount: str | None,
    percent: str | None,
    prefix: str = "",
) -> tuple[int, int]:
    """A trailing stop's trail: (ticks, hundredths of a basis point), exactly one of them
    set; InvalidRequest (INVALID_TRAIL) for none, both, or a trail on another order type."""
    amount_field, percent_field = f"{prefix}trail_amount", f"{prefix}trail_percent"
    if order_type is not OrderType.TRAILING_STOP:
        if amount is not None or percent is not None:
            field = amount_field if amount is not None else percent_field
            raise InvalidRequest(reasons.INVALID_TRAIL, "only trailing stops trail", field)
        return 0, 0
    if (amount is None) == (percent is None):
        detail = "a trailing stop needs either trail_amount or trail_percent"
        raise InvalidRequest(reasons.INVALID_TRAIL, detail, amount_field)
    if amount is not None:
        # A price distance on the tick grid; not positive (or malformed) is INVALID_TRAIL,
        # as for a percentage.
        def trail_ticks(field: str, value: str) -> int:
            return to_units(
                field, value, instrument.tick_size, reasons.PRICE_OFF_TICK, reasons.INVALID_TRAIL
            )

        return _units(trail_ticks, amount_field, amount), 0
    assert percent is not None
    try:
        cbps = percent_to_cbps(percent_field, percent)
    except GridError as error:
        raise refused(error) from None
    if cbps >= 1_000_000:
        raise InvalidRequest(reasons.INVALID_TRAIL, "the trail is under 100%", percent_field)
    return 0, cbps


def _display(instrument: Instrument, request: OrderRequest, quantity: int) -> int:
    """An iceberg's displayed part in lots (0: not an iceberg)."""
    if request.display_quantity is None:
        return 0
    field = "display_quantity"
    if request.type is not OrderType.LIMIT:
        detail = "only limit orders may show part of their quantity"
        raise InvalidRequest(reasons.INVALID_DISPLAY_QUANTITY, detail, field)
    display = lots(instrument, field, request.display_quantity)
    if display >= quantity:
        detail = "display_quantity is less than quantity (or leave it out)"
        raise InvalidRequest(reasons.INVALID_DISPLAY_QUANTITY, detail, field)
    return display


def check_time_in_force(time_in_force: TimeInForce) -> None:
    """At the open and at the close need auctions, which this venue does not run (yet)."""
    if time_in_force in (TimeInForce.OPG, TimeInForce.CLS):
        raise InvalidRequest(
            reasons.TIME_IN_FORCE_NOT_SUPPORTED,
            f"{time_in_force.value} is not supported until auctions exist",
            "time_in_force",
        )


def _expiry(request: OrderRequest, now: int) -> int | None:
    if request.time_in_force is not TimeInForce.GTD:
        if request.expire_at is not None:
            raise InvalidRequest(
                codes.UNEXPECTED_EXPIRE_TIME, "expire_at is only for gtd orders", "expire_at"
            )
        return None
    if request.expire_at is None:
        raise InvalidRequest(reasons.MISSING_EXPIRE_TIME, "gtd orders need expire_at", "expire_at")
    if request.expire_at <= now:
        raise InvalidRequest(reasons.EXPIRE_TIME_IN_PAST, "expire_at is in the past", "expire_at")
    if request.expire_at > now + MAX_EXPIRY_NS:
        raise InvalidRequest(
            codes.EXPIRE_TIME_TOO_FAR, "expire_at is more than a year away", "expire_at"
        )
    return request.expire_at


def to_ticket(request: OrderRequest, instrument: Instrument, now: int) -> Ticket:
    """Check the request's top-level order (a simple order, a group's entry, an OCO's
    take-profit) against the instrument's grid and limits; InvalidRequest names the first
    field at fault and its reason code."""
    check_time_in_force(request.time_in_force)
    quantity = lots(instrument, "quantity", request.quantity)
    check_quantity_limits(instrument, quantity)
    limit_price = limit_price_of(instrument, request.type, request.limit_price, "limit_price")
    stop_price = stop_price_of(instrument, request.type, request.stop_price, "stop_price")
    trail_amount, trail_cbps = trail_of(
        instrument, request.type, request.trail_amount, request.trail_percent
    )
    display_qty = _display(instrument, request, quantity)
    if request.post_only and request.type is not OrderType.LIMIT:
        detail = "only limit orders can be post-only"
        raise InvalidRequest(reasons.POST_ONLY_NOT_LIMIT, detail, "post_only")
    return Ticket(
        symbol=request.symbol,
        side=request.side,
        type=request.type,
        time_in_force=request.time_in_force,
        quantity=quantity,
        limit_price=limit_price,
        stop_price=stop_price,
        expire_at=_expiry(request, now),
        client_order_id=request.client_order_id,
        display_qty=display_qty,
        post_only=request.post_only,
        reduce_only=request.reduce_only,
        trail_amount=trail_amount,
        trail_cbps=trail_cbps,
    )
