"""Checks a new order must pass before any venue accepts it (engine and fill simulator)."""

from __future__ import annotations

from matcher.engine.codes import (
    BUY,
    CANCEL_BOTH,
    CANCEL_NEWEST,
    CANCEL_OLDEST,
    DAY,
    FOK,
    GTC,
    GTD,
    IOC,
    LIMIT,
    MARKET,
    SELL,
    STOP,
    STOP_LIMIT,
)
from shared.domain import reasons
from shared.domain.commands import NewOrder

_ORDER_TYPES = frozenset({MARKET, LIMIT, STOP, STOP_LIMIT})
_TIFS = frozenset({DAY, GTC, IOC, FOK, GTD})
_STP_MODES = frozenset({CANCEL_NEWEST, CANCEL_OLDEST, CANCEL_BOTH})


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
    needs_price = c.order_type == LIMIT or c.order_type == STOP_LIMIT
    if needs_price and c.price <= 0:
        return reasons.MISSING_LIMIT_PRICE
    if not needs_price and c.price != 0:
        return reasons.UNEXPECTED_PRICE
    needs_stop = c.order_type == STOP or c.order_type == STOP_LIMIT
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
