"""A preview's checks of the request against its instrument: each rule `to_ticket` applies
(shared.services.tickets), run one by one and recorded, passed or failed, with its figures.

Placing runs `to_ticket`, which stops at the first failure; a preview runs these and then
`to_ticket` itself, so whatever `to_ticket` refuses is refused by the preview too (a rule
not listed here shows as the check "order").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from shared.domain import order_rules, reasons
from shared.domain.enums import TimeInForce
from shared.domain.instrument import Instrument
from shared.services.checklist import Checklist
from shared.services.errors import InvalidRequest, ServiceError
from shared.services.tickets import (
    OrderRequest,
    _expiry,
    _price,
    check_quantity_limits,
    lots,
)

T = TypeVar("T")


def _run(
    checklist: Checklist,
    name: str,
    field: str,
    rule: Callable[[], T],
    passed: Callable[[T], str],
) -> T | None:
    try:
        value = rule()
    except InvalidRequest as error:
        checklist.failed(name, error.reason, error.detail, field=error.field or field)
        return None
    checklist.passed(name, passed(value), field=field)
    return value


def request_checks(
    checklist: Checklist, request: OrderRequest, instrument: Instrument, now: int
) -> None:
    """Record each check of the request against `instrument` (the instrument is known)."""
    checklist.passed("instrument", f"{instrument.symbol} is listed", field="symbol")
    lot = instrument.quantity_str(1)
    quantity = _run(
        checklist,
        "quantity_grid",
        "quantity",
        lambda: lots(instrument, "quantity", request.quantity),
        lambda q: f"{request.quantity} is a whole number of lots of {lot}",
    )
    if quantity is not None:
        _bounds(checklist, instrument, request.quantity, quantity)
    kind = request.type.value.replace("_", " ")
    _price_check(
        checklist,
        instrument,
        "limit_price",
        request.limit_price,
        order_rules.has_limit_price(request.type.value),
        reasons.MISSING_LIMIT_PRICE,
        kind,
    )
    _price_check(
        checklist,
        instrument,
        "stop_price",
        request.stop_price,
        order_rules.has_stop_price(request.type.value),
        reasons.MISSING_STOP_PRICE,
        kind,
    )
    tif = request.time_in_force
    _run(
        checklist,
        "expire_at",
        "expire_at",
        lambda: _expiry(request, now),
        lambda _: (
            "a gtd order's expiry is within a year"
            if tif is TimeInForce.GTD
            else f"none, as a {tif.value} order takes none"
        ),
    )


def _bounds(checklist: Checklist, instrument: Instrument, asked: str, quantity: int) -> None:
    low = instrument.quantity_str(instrument.min_quantity)
    high = instrument.quantity_str(instrument.max_quantity)
    figures = {"field": "quantity", "value": asked, "limit": f"{low}..{high}"}
    try:
        check_quantity_limits(instrument, quantity)
    except InvalidRequest as error:
        checklist.failed("quantity_bounds", error.reason, error.detail, **figures)
    else:
        checklist.passed("quantity_bounds", f"{asked} is within {low} to {high}", **figures)


def _price_check(
    checklist: Checklist,
    instrument: Instrument,
    field: str,
    value: str | None,
    needed: bool,
    missing: str,
    kind: str,
) -> None:
    tick = instrument.price_str(1)
    _run(
        checklist,
        field,
        field,
        lambda: _price(instrument, field, value, needed, missing),
        lambda ticks: (
            f"{value} is on the tick grid of {tick}"
            if ticks is not None
            else f"none, as a {kind} order takes none"
        ),
    )


def record_refusal(checklist: Checklist, error: ServiceError) -> None:
    """`to_ticket`'s refusal, unless a check above already recorded it."""
    for check in checklist.checks:
        if not check.passed and check.reason == error.reason and check.field == error.field:
            return
    name = "instrument" if error.field == "symbol" else "order"
    checklist.failed(name, error.reason, error.detail, field=error.field)
