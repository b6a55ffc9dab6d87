"""The rules of an order's life that every venue (the matching engine, the fill simulator)
and the intake apply alike. A new order type or instruction lands here first.

- which order types carry a limit price, a stop price, and which work as market orders;
- what a new order must satisfy (`new_order_problem`);
- what a replace may change (`replace_problem` and its parts);
- which order a cancel or replace may act on (`request_problem`);
- the status of an order still working (`working_status`).

Plain functions over strings and integers, compiled with the engine (mypyc): each returns
a reason code (`shared.domain.reasons`), "" when the rule is met.
"""

from __future__ import annotations

from shared.domain import reasons
from shared.domain.codes import (
    BUY,
    CANCEL_BOTH,
    CANCEL_NEWEST,
    CANCEL_OLDEST,
    DAY,
    FOK,
    GTC,
    GTD,
    HELD,
    IOC,
    LIMIT,
    MARKET,
    NEW,
    PARTIALLY_FILLED,
    SELL,
    STOP,
    STOP_LIMIT,
)
from shared.domain.commands import NewOrder

_ORDER_TYPES = frozenset({MARKET, LIMIT, STOP, STOP_LIMIT})
_TIFS = frozenset({DAY, GTC, IOC, FOK, GTD})
_STP_MODES = frozenset({CANCEL_NEWEST, CANCEL_OLDEST, CANCEL_BOTH})


def has_limit_price(order_type: str) -> bool:
    """Limit and stop-limit orders carry a limit price (and only they may)."""
    return order_type in (LIMIT, STOP_LIMIT)


def has_stop_price(order_type: str) -> bool:
    """Stop and stop-limit orders carry a stop price (and only they may)."""
    return order_type in (STOP, STOP_LIMIT)


def works_as_market(order_type: str) -> bool:
    """Market orders, and stop orders once triggered, take any price: they never rest."""
    return order_type in (MARKET, STOP)


def working_status(cum_qty: int, leaves_qty: int, held_qty: int) -> str:
    """The status of an order still working: partially filled once anything filled, held
    while a contingent leg has nothing live yet (only a held part), else new."""
    if cum_qty > 0:
        return PARTIALLY_FILLED
    if leaves_qty == 0 and held_qty > 0:
        return HELD
    return NEW


def new_order_problem(c: NewOrder, halted: bool, duplicate: bool) -> str:
    """The reason code a new order must be rejected with, or "" when it is acceptable."""
    if halted:
        return reasons.INSTRUMENT_HALTED
    if duplicate:
        return reasons.DUPLICATE_ORDER_ID
    if c.side != BUY and c.side != SELL:
        return reasons.INVALID_SIDE
    if c.order_type not in _ORDER_TYPES:
        return reasons.INVALID_ORDER_TYPE
    if c.time_in_force not in _TIFS:
        return reasons.INVALID_TIME_IN_FORCE
    if c.stp not in _STP_MODES:
        return reasons.INVALID_STP_MODE
    if c.quantity <= 0:
        return reasons.INVALID_QUANTITY
    needs_price = has_limit_price(c.order_type)
    if needs_price and c.price <= 0:
        return reasons.MISSING_LIMIT_PRICE
    if not needs_price and c.price != 0:
        return reasons.UNEXPECTED_PRICE
    needs_stop = has_stop_price(c.order_type)
    if needs_stop and c.stop_price <= 0:
        return reasons.MISSING_STOP_PRICE
    if not needs_stop and c.stop_price != 0:
        return reasons.UNEXPECTED_PRICE
    if c.time_in_force == GTD:
        if c.expire_at <= 0:
            return reasons.MISSING_EXPIRE_TIME
        if c.expire_at <= c.ts:
            return reasons.EXPIRE_TIME_IN_PAST
    return ""


def request_problem(owner: str | None, account_id: str) -> str:
    """Why a cancel or replace from `account_id` cannot act on an order owned by `owner`
    (None: no working order has that id), or ""."""
    if owner is None:
        return reasons.UNKNOWN_ORDER
    if owner != account_id:
        return reasons.NOT_ORDER_OWNER
    return ""


def replace_quantity_problem(quantity: int, cum_qty: int) -> str:
    """A replace's quantity is the new total: it must leave something to fill."""
    return reasons.REPLACE_QTY_AT_OR_BELOW_FILLED if quantity <= cum_qty else ""


def replace_price_problem(order_type: str) -> str:
    """Only an order that carries a limit price may get a new one."""
    return "" if has_limit_price(order_type) else reasons.REPLACE_INVALID


def replace_stop_problem(stop_waiting: bool) -> str:
    """Only a stop that has not triggered yet may get a new stop price (the intake, which
    cannot know, asks for any stop order; the venue has the last word)."""
    return "" if stop_waiting else reasons.REPLACE_INVALID


def replace_problem(
    order_type: str,
    cum_qty: int,
    quantity: int,
    new_price: bool,
    new_stop: bool,
    stop_waiting: bool,
) -> str:
    """The reason code a replace must be rejected with, or "": `quantity` is the new total,
    `new_price` / `new_stop` whether it changes the limit / stop price."""
    reason = replace_quantity_problem(quantity, cum_qty)
    if not reason and new_price:
        reason = replace_price_problem(order_type)
    if not reason and new_stop:
        reason = replace_stop_problem(stop_waiting)
    return reason
