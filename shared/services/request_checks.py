"""A preview's checks of the request against its instrument: the rules `to_ticket` and the
session check apply (shared.services.tickets), run one by one and recorded, passed or
failed, with their figures.

Placing stops at the first failure; a preview runs these and then what placing runs itself
(the session, `group_tickets`, the venue's rules), so whatever placing refuses the preview
refuses too (a rule not listed here shows under the step that refused: "order",
"order_group" or "venue_rules").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from shared.domain.enums import OrderType, TimeInForce
from shared.domain.instrument import Instrument
from shared.services.checklist import Checklist
from shared.services.errors import InvalidRequest, ServiceError
from shared.services.tickets import (
    OrderRequest,
    _display,
    _expiry,
    check_quantity_limits,
    check_session,
    check_time_in_force,
    limit_price_of,
    lots,
    stop_price_of,
    trail_of,
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
    session = instrument.session
    _run(
        checklist,
        "market_session",
        "symbol",
        lambda: check_session(instrument, now),
        lambda _: "it trades around the clock" if session is None else "its market is open now",
    )
    tif = request.time_in_force
    _run(
        checklist,
        "time_in_force",
        "time_in_force",
        lambda: check_time_in_force(tif),
        lambda _: f"{tif.value} is supported",
    )
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
    tick = instrument.price_str(1)

    def priced(field: str, value: str | None) -> Callable[[int | None], str]:
        return lambda ticks: (
            f"{value} is on the tick grid of {tick}"
            if ticks is not None
            else f"none, as a {kind} order takes none"
        )

    _run(
        checklist,
        "limit_price",
        "limit_price",
        lambda: limit_price_of(instrument, request.type, request.limit_price, "limit_price"),
        priced("limit_price", request.limit_price),
    )
    _run(
        checklist,
        "stop_price",
        "stop_price",
        lambda: stop_price_of(instrument, request.type, request.stop_price, "stop_price"),
        priced("stop_price", request.stop_price),
    )
    trailing = request.type is OrderType.TRAILING_STOP
    _run(
        checklist,
        "trail",
        "trail_amount",
        lambda: trail_of(instrument, request.type, request.trail_amount, request.trail_percent),
        lambda _: (
            "a trail of " + (request.trail_amount or f"{request.trail_percent}%")
            if trailing
            else f"none, as a {kind} order takes none"
        ),
    )
    if quantity is not None:
        _run(
            checklist,
            "display_quantity",
            "display_quantity",
            lambda: _display(instrument, request, quantity),
            lambda shown: (
                f"{request.display_quantity} of {request.quantity} is shown"
                if shown
                else "all of it is shown"
            ),
        )
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


def record_refusal(checklist: Checklist, error: ServiceError, name: str = "order") -> None:
    """A refusal of placing's (`to_ticket`, the group's exits, the venue's rules) under
    `name`, unless a check above already recorded it."""
    for check in checklist.checks:
        if not check.passed and check.reason == error.reason and check.field == error.field:
            return
    if error.field == "symbol" and not checklist.checks:
        name = "instrument"
    checklist.failed(name, error.reason, error.detail, field=error.field)
