"""The rules a contingent group (bracket, OTO, OCO) must satisfy as a whole, beyond each of
its orders by itself (`order_rules.new_order_problem(..., in_group=True)`). The venues and
the intake apply them alike; `order_rules.group_problem` is this one."""

from __future__ import annotations

from shared.domain import reasons
from shared.domain.codes import (
    BRACKET,
    BUY,
    ENTRY,
    FOK,
    IOC,
    LIMIT,
    MARKET,
    OCO,
    OTO,
    SELL,
    STOP,
    STOP_LIMIT,
    STOP_LOSS,
    TAKE_PROFIT,
    TRAILING_STOP,
)
from shared.domain.commands import NewOrder, NewOrderGroup

_ENTRY_TYPES = frozenset({MARKET, LIMIT, STOP, STOP_LIMIT})
_STOP_LOSS_TYPES = frozenset({STOP, STOP_LIMIT, TRAILING_STOP})

_SHAPES: dict[str, tuple[tuple[str, ...], ...]] = {
    BRACKET: ((ENTRY, TAKE_PROFIT, STOP_LOSS),),
    OTO: ((ENTRY, TAKE_PROFIT), (ENTRY, STOP_LOSS)),
    OCO: ((TAKE_PROFIT, STOP_LOSS),),
}


def group_problem(g: NewOrderGroup) -> tuple[int, str]:
    """What is wrong with contingent group `g` as a whole: (the index of the order at fault,
    its reason code), or (-1, "") when the group is acceptable. Each order is checked by
    itself first (`new_order_problem(..., in_group=True)`); this checks how they fit:

    - bracket: [entry, take_profit, stop_loss]; oto: [entry, one exit]; oco: [take_profit,
      stop_loss]. Every order carries the group's class, symbol, account and venue, the leg
      its place says, and its parent: "" for the entry (the take-profit in an OCO), the
      entry's (the take-profit's) order id for the others. Order ids differ.
    - entry: market, limit, stop or stop-limit; IOC / FOK only for market and limit.
    - take_profit: limit; stop_loss: stop, stop-limit or trailing stop. The exits are on
      the side opposite the entry (an OCO's two on the same side), for the entry's quantity
      (each other's in an OCO), neither post-only nor reduce-only, never IOC / FOK, and both
      with the same time in force (and expiry): they end together.
    - prices (INVALID_BRACKET_PRICES): exits that sell have the take-profit's limit above the
      stop-loss's stop and above the entry's limit (or stop), and the stop-loss's stop below
      it; mirrored for exits that buy. A trailing stop-loss has no fixed stop to compare.
    """
    orders = g.orders
    n = len(orders)
    order_class = g.order_class
    shapes = _SHAPES.get(order_class)
    if shapes is None:
        return 0, reasons.INVALID_ORDER_CLASS
    legs = tuple(o.leg for o in orders)
    if legs not in shapes:
        for i, o in enumerate(orders):
            if o.order_class != order_class:
                return i, reasons.INVALID_ORDER_CLASS
        return _first_misplaced_leg(legs, shapes[0]), reasons.INVALID_LEG
    first = orders[0]
    seen: set[str] = set()
    for i, o in enumerate(orders):
        if o.order_class != order_class:
            return i, reasons.INVALID_ORDER_CLASS
        if o.order_id in seen:
            return i, reasons.DUPLICATE_ORDER_ID
        seen.add(o.order_id)
        same_home = o.symbol == g.symbol and o.account_id == first.account_id
        if not same_home or o.venue != first.venue or o.reduce_only:
            return i, reasons.INVALID_LEG
        parent = "" if i == 0 else first.order_id
        if o.parent_order_id != parent:
            return i, reasons.INVALID_LEG
    entry = first if first.leg == ENTRY else None
    exits = orders[1:] if entry is not None else orders
    if entry is not None:
        if entry.order_type not in _ENTRY_TYPES:
            return 0, reasons.INVALID_LEG
        tif = entry.time_in_force
        if tif in (IOC, FOK) and entry.order_type not in (MARKET, LIMIT):
            return 0, reasons.INVALID_TIME_IN_FORCE
    exit_side = exits[0].side if entry is None else (SELL if entry.side == BUY else BUY)
    offset = n - len(exits)
    for j, o in enumerate(exits):
        i = offset + j
        if o.leg == TAKE_PROFIT and o.order_type != LIMIT:
            return i, reasons.INVALID_LEG
        if o.leg == STOP_LOSS and o.order_type not in _STOP_LOSS_TYPES:
            return i, reasons.INVALID_LEG
        if o.side != exit_side or o.quantity != orders[0].quantity or o.post_only:
            return i, reasons.INVALID_LEG
        if o.time_in_force == IOC or o.time_in_force == FOK:
            return i, reasons.INVALID_TIME_IN_FORCE
        if o.time_in_force != exits[0].time_in_force or o.expire_at != exits[0].expire_at:
            return i, reasons.INVALID_LEG
    return _prices_problem(orders, entry, exit_side == SELL)


def _first_misplaced_leg(legs: tuple[str, ...], shape: tuple[str, ...]) -> int:
    for i, leg in enumerate(legs):
        if i >= len(shape) or leg != shape[i]:
            return i
    return len(legs) - 1 if legs else 0


def _prices_problem(
    orders: tuple[NewOrder, ...], entry: NewOrder | None, exits_sell: bool
) -> tuple[int, str]:
    """Exits that sell: take-profit limit > stop-loss stop, take-profit limit > entry price,
    stop-loss stop < entry price (the entry's limit, else its stop; a market entry has
    none); mirrored when the exits buy."""
    base = 0
    if entry is not None:
        base = entry.price if entry.price > 0 else entry.stop_price
    tp_i, sl_i = -1, -1
    for i, o in enumerate(orders):
        if o.leg == TAKE_PROFIT:
            tp_i = i
        elif o.leg == STOP_LOSS:
            sl_i = i
    tp = orders[tp_i].price if tp_i >= 0 else 0
    stop = orders[sl_i].stop_price if sl_i >= 0 else 0  # 0: trailing, nothing fixed
    leg = exit_prices_problem(exits_sell, base, tp, stop)
    if not leg:
        return -1, ""
    return (tp_i if leg == TAKE_PROFIT else sl_i), reasons.INVALID_BRACKET_PRICES


def exit_prices_problem(exits_sell: bool, base: int, take_profit: int, stop: int) -> str:
    """The leg (TAKE_PROFIT or STOP_LOSS) whose price breaks INVALID_BRACKET_PRICES, or "":
    exits that sell have the take-profit's limit above the stop-loss's stop and above the
    entry's price `base`, and the stop below `base`; mirrored when they buy. 0 = no price
    to compare (no such leg, a market entry, a trailing stop-loss)."""
    sign = 1 if exits_sell else -1
    if take_profit and stop and sign * (take_profit - stop) <= 0:
        return TAKE_PROFIT
    if take_profit and base and sign * (take_profit - base) <= 0:
        return TAKE_PROFIT
    if stop and base and sign * (base - stop) <= 0:
        return STOP_LOSS
    return ""
