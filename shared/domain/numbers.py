"""Fixed-point prices and quantities: integer ticks and lots inside, decimal strings outside.

Binary floats never carry money. A value off the tick or lot grid is refused, never rounded.
"""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation

from shared.domain import reasons


class GridError(ValueError):
    """A decimal value that is malformed, not positive, or off its grid."""

    def __init__(self, field: str, reason: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.reason = reason
        self.detail = detail


def parse_decimal(field: str, value: str | int | Decimal, reason: str) -> Decimal:
    """A finite Decimal from a decimal string or int; floats are refused outright."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise GridError(field, reason, 'must be a decimal string such as "150.25"')
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise GridError(field, reason, f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise GridError(field, reason, "must be a finite number")
    return number


def to_units(field: str, value: str | int | Decimal, step: Decimal, off_grid: str, bad: str) -> int:
    """How many `step`s make `value` exactly; off the grid or not positive is an error."""
    number = parse_decimal(field, value, bad)
    if number <= 0:
        raise GridError(field, bad, "must be greater than zero")
    units, remainder = divmod(number, step)
    if remainder != 0:
        raise GridError(field, off_grid, f"{number} is not a multiple of {step}")
    return int(units)


def price_to_ticks(field: str, value: str | int | Decimal, tick_size: Decimal) -> int:
    return to_units(field, value, tick_size, reasons.PRICE_OFF_TICK, reasons.INVALID_PRICE)


def quantity_to_lots(field: str, value: str | int | Decimal, lot_size: Decimal) -> int:
    return to_units(field, value, lot_size, reasons.QUANTITY_OFF_LOT, reasons.INVALID_QUANTITY)


PERCENT_STEP = Decimal("0.0001")
"""A percentage in hundredths of a basis point (1% = 10,000): a trailing stop's trail."""


def percent_to_cbps(field: str, value: str | int | Decimal) -> int:
    """A percentage as hundredths of a basis point, exactly ("1.25" is 12,500); a value with
    more decimals than that, or not positive, is an error (INVALID_TRAIL)."""
    return to_units(field, value, PERCENT_STEP, reasons.INVALID_TRAIL, reasons.INVALID_TRAIL)


def cbps_to_percent(cbps: int) -> str:
    """The percentage string of hundredths of a basis point (12,500 is "1.25")."""
    return units_to_str(cbps, PERCENT_STEP)


# Remembered: a page of 500 orders renders a few thousand amounts, mostly the same few
# quantities and prices, and the Decimal arithmetic costs more than the rest of the view.
@functools.lru_cache(maxsize=65_536)
def units_to_str(units: int, step: Decimal) -> str:
    """The decimal string of `units` steps, without exponent or trailing zeros noise."""
    value = (step * units).normalize()
    text = format(value, "f")
    return text


@functools.lru_cache(maxsize=65_536)
def fee_to_str(fee_raw: int, tick_size: Decimal, lot_size: Decimal) -> str:
    """Engine fees are integers in units of tick * lot / 1,000,000 (hundredths of a bp)."""
    value = (Decimal(fee_raw) * tick_size * lot_size / Decimal(1_000_000)).normalize()
    return format(value, "f")
