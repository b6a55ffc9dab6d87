"""Order requests as the API receives them, checked against the instrument into engine units."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared.domain import order_rules, reasons
from shared.domain.enums import OrderType, Side, TimeInForce
from shared.domain.instrument import Instrument
from shared.domain.numbers import GridError
from shared.services import codes
from shared.services.deps import Deps
from shared.services.errors import InvalidRequest

MAX_UNITS = 10**15
"""The most ticks or lots one value may have: far beyond any market, well inside int64."""

MAX_EXPIRY_NS = 366 * 86_400 * 1_000_000_000
"""GTD orders expire within a year (a typo in the year should not make a near-eternal order)."""


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order as the client sent it: decimal strings, times in ns since the epoch."""

    symbol: str
    side: Side
    type: OrderType
    quantity: str
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price: str | None = None
    stop_price: str | None = None
    expire_at: int | None = None
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """A new order on the instrument's grid: lots and ticks (None = no price)."""

    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    quantity: int
    limit_price: int | None
    stop_price: int | None
    expire_at: int | None
    client_order_id: str | None


async def instrument_for(deps: Deps, symbol: str) -> Instrument:
    """The instrument a request names; InvalidRequest (UNKNOWN_INSTRUMENT) when none."""
    instrument = await deps.store.instruments.get(symbol)
    if instrument is None or symbol == "*":
        raise InvalidRequest(reasons.UNKNOWN_INSTRUMENT, f"no instrument {symbol}", "symbol")
    return instrument


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
    """Check the request against the instrument's grid and limits; InvalidRequest names the
    first field at fault and its reason code."""
    quantity = lots(instrument, "quantity", request.quantity)
    check_quantity_limits(instrument, quantity)
    limit_price = _price(
        instrument,
        "limit_price",
        request.limit_price,
        order_rules.has_limit_price(request.type.value),
        reasons.MISSING_LIMIT_PRICE,
    )
    stop_price = _price(
        instrument,
        "stop_price",
        request.stop_price,
        order_rules.has_stop_price(request.type.value),
        reasons.MISSING_STOP_PRICE,
    )
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
    )
