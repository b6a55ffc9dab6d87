"""The rules of an order's life that every venue (the matching engine, the fill simulator)
and the intake apply alike. A new order type or instruction lands here first.

- which order types carry a limit price, a stop price, wait for a trigger, work as market;
- what a new order must satisfy (`new_order_problem`), and a contingent group as a whole
  (`group_problem`, in `shared.domain.group_rules`, importable from here);
- what a reduce-only order may add (`reduce_only_problem`);
- what a replace may change (`replace_problem` and its parts);
- which order a cancel or replace may act on (`request_problem`);
- where a trailing stop's stop is (`trailing_stop_price`);
- the status of an order still working (`working_status`).

Plain functions over strings and integers, compiled with the engine (mypyc): each returns
a reason code (`shared.domain.reasons`), "" when the rule is met.
"""

from __future__ import annotations

from shared.domain import reasons
from shared.domain.codes import (
    BRACKET,
    BUY,
    CANCEL_BOTH,
    CANCEL_NEWEST,
    CANCEL_OLDEST,
    CLS,
    DAY,
    DECREMENT,
    ENTRY,
    FOK,
    GTC,
    GTD,
    HELD,
    IOC,
    LIMIT,
    MARKET,
    NEW,
    OCO,
    OPG,
    OTO,
    PARTIALLY_FILLED,
    SELL,
    SIMPLE,
    STOP,
    STOP_LIMIT,
    STOP_LOSS,
    TAKE_PROFIT,
    TRAILING_STOP,
)
from shared.domain.commands import NewOrder
from shared.domain.group_rules import group_problem as group_problem  # (its home is here too)

_TIFS = frozenset({DAY, GTC, IOC, FOK, GTD})
_AUCTION_TIFS = frozenset({OPG, CLS})  # need auctions, which the venues do not run (yet)
_CLASSES = frozenset({SIMPLE, BRACKET, OCO, OTO})
_EXITS = frozenset({TAKE_PROFIT, STOP_LOSS})

CBPS = 1_000_000
"""A whole in hundredths of a basis point: `trail_cbps` is a share of the price in these."""


def has_limit_price(order_type: str) -> bool:
    """Limit and stop-limit orders carry a limit price (and only they may)."""
    return order_type in (LIMIT, STOP_LIMIT)


def has_stop_price(order_type: str) -> bool:
    """Stop and stop-limit orders carry a stop price the client sets (and only they may: a
    trailing stop's stop price follows the market, `trailing_stop_price`)."""
    return order_type in (STOP, STOP_LIMIT)


def waits_for_trigger(order_type: str) -> bool:
    """Stop, stop-limit and trailing stop orders wait until the market reaches their stop."""
    return order_type in (STOP, STOP_LIMIT, TRAILING_STOP)


def works_as_market(order_type: str) -> bool:
    """Market orders, and stop and trailing stop orders once triggered, take any price: they
    never rest."""
    return order_type in (MARKET, STOP, TRAILING_STOP)


def working_status(cum_qty: int, leaves_qty: int, held_qty: int) -> str:
    """The status of an order still working: partially filled once anything filled, held
    while a contingent leg has nothing live yet (only a held part), else new."""
    if cum_qty > 0:
        return PARTIALLY_FILLED
    if leaves_qty == 0 and held_qty > 0:
        return HELD
    return NEW


def trail_problem(order_type: str, trail_amount: int, trail_cbps: int) -> str:
    """A trailing stop has exactly one trail: `trail_amount` ticks, or `trail_cbps` of the
    price (more than 0, less than 100%); no other order type has one."""
    if order_type != TRAILING_STOP:
        return "" if trail_amount == 0 and trail_cbps == 0 else reasons.INVALID_TRAIL
    if trail_amount < 0 or trail_cbps < 0 or (trail_amount > 0) == (trail_cbps > 0):
        return reasons.INVALID_TRAIL
    if trail_cbps >= CBPS:
        return reasons.INVALID_TRAIL
    return ""


def trailing_stop_price(
    is_buy: bool, high_water_mark: int, trail_amount: int, trail_cbps: int
) -> int:
    """The stop of a trailing stop whose best price so far is `high_water_mark` (the highest
    trade for a sell, the lowest for a buy; 0 = none yet, and then no stop either). A sell's
    stop is below it (a percentage rounded down to the tick), a buy's above (rounded up)."""
    hwm = high_water_mark
    if hwm <= 0:
        return 0
    if is_buy:
        if trail_amount > 0:
            return hwm + trail_amount
        return -(-hwm * (CBPS + trail_cbps) // CBPS)
    stop = hwm - trail_amount if trail_amount > 0 else hwm * (CBPS - trail_cbps) // CBPS
    return stop if stop > 1 else 1


def time_in_force_problem(time_in_force: str) -> str:
    """opg / cls are known but refused until the venues run auctions; others are unknown."""
    if time_in_force in _TIFS:
        return ""
    if time_in_force in _AUCTION_TIFS:
        return reasons.TIME_IN_FORCE_NOT_SUPPORTED
    return reasons.INVALID_TIME_IN_FORCE


def new_order_problem(c: NewOrder, halted: bool, duplicate: bool, in_group: bool = False) -> str:
    """The reason code a new order must be rejected with, or "" when it is acceptable.

    `in_group`: the order arrived inside a NewOrderGroup (whose shape `group_problem`
    checks); an order of another class than "simple" arriving alone is refused."""
    # Plain comparisons with the constants, most frequent first: this runs for every order
    # (a module-level set is a global lookup for each test under mypyc).
    if halted:
        return reasons.INSTRUMENT_HALTED
    if duplicate:
        return reasons.DUPLICATE_ORDER_ID
    if c.side != BUY and c.side != SELL:
        return reasons.INVALID_SIDE
    order_type = c.order_type
    if order_type not in (LIMIT, MARKET, STOP, STOP_LIMIT, TRAILING_STOP):
        return reasons.INVALID_ORDER_TYPE
    tif = c.time_in_force
    if tif not in (GTC, DAY, IOC, FOK, GTD):
        return time_in_force_problem(tif)
    if c.stp not in (CANCEL_NEWEST, CANCEL_OLDEST, CANCEL_BOTH, DECREMENT):
        return reasons.INVALID_STP_MODE
    if c.quantity <= 0:
        return reasons.INVALID_QUANTITY
    needs_price = order_type in (LIMIT, STOP_LIMIT)
    if needs_price and c.price <= 0:
        return reasons.MISSING_LIMIT_PRICE
    if not needs_price and c.price != 0:
        return reasons.UNEXPECTED_PRICE
    needs_stop = order_type in (STOP, STOP_LIMIT)
    if needs_stop and c.stop_price <= 0:
        return reasons.MISSING_STOP_PRICE
    if not needs_stop and c.stop_price != 0:
        return reasons.UNEXPECTED_PRICE
    if (
        c.trail_amount != 0
        or c.trail_cbps != 0
        or c.display_qty != 0
        or c.post_only
        or c.leg
        or c.parent_order_id
        or c.order_class != SIMPLE
        or order_type == TRAILING_STOP
    ):
        reason = instructions_problem(c, in_group)
        if reason:
            return reason
    if tif == GTD:
        if c.expire_at <= 0:
            return reasons.MISSING_EXPIRE_TIME
        if c.expire_at <= c.ts:
            return reasons.EXPIRE_TIME_IN_PAST
    return ""


def instructions_problem(c: NewOrder, in_group: bool) -> str:
    """What is wrong with a new order's newer instructions: its trail, display quantity,
    post-only, and class and leg (`new_order_problem` asks only when it has some)."""
    reason = trail_problem(c.order_type, c.trail_amount, c.trail_cbps)
    if reason:
        return reason
    reason = display_problem(c.order_type, c.time_in_force, c.quantity, c.display_qty)
    if reason:
        return reason
    if c.post_only:
        if c.order_type != LIMIT:
            return reasons.POST_ONLY_NOT_LIMIT
        if c.time_in_force in (IOC, FOK):
            return reasons.INVALID_TIME_IN_FORCE  # it could never rest: it would only cancel
    return class_problem(c.order_class, c.leg, c.parent_order_id, in_group)


def display_problem(order_type: str, time_in_force: str, quantity: int, display_qty: int) -> str:
    """An iceberg shows `display_qty` of a resting limit order: more than 0, at most the
    quantity, and only on a limit order that may rest (not IOC / FOK); 0: not an iceberg."""
    if display_qty < 0 or display_qty > quantity:
        return reasons.INVALID_DISPLAY_QUANTITY
    if display_qty > 0 and (order_type != LIMIT or time_in_force in (IOC, FOK)):
        return reasons.INVALID_DISPLAY_QUANTITY
    return ""


def class_problem(order_class: str, leg: str, parent_order_id: str, in_group: bool) -> str:
    """An order's class and leg agree: a simple order has no leg and no parent; an order of
    a contingent class comes inside its group, with a leg that class has."""
    if order_class not in _CLASSES:
        return reasons.INVALID_ORDER_CLASS
    if order_class == SIMPLE:
        return "" if not leg and not parent_order_id else reasons.INVALID_LEG
    if not in_group:
        return reasons.INVALID_ORDER_CLASS
    if leg in _EXITS or (leg == ENTRY and order_class != OCO):
        return ""
    return reasons.INVALID_LEG


def reduce_only_problem(side: str, quantity: int, net_position: int, open_reduce_only: int) -> str:
    """A reduce-only order of `quantity` lots on `side`, for an account whose net position
    in the instrument is `net_position` (lots, + long, - short) and whose open reduce-only
    orders on that side already add up to `open_reduce_only` lots (leaves + held): it must
    reduce (sell when long, buy when short), and all of them together may not exceed the
    position, so that filling every one of them at most closes it."""
    reduces = net_position > 0 if side == SELL else net_position < 0
    if not reduces or quantity + open_reduce_only > abs(net_position):
        return reasons.REDUCE_ONLY_WOULD_INCREASE
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
    """A replace's quantity is the new total: it must leave something to fill. `cum_qty` is
    what is done already: filled, plus any part the venue canceled while the order stayed
    open (an OCO sibling's fill, a reduce-only trim, an STP decrement: `canceled_qty` of a
    working order)."""
    return reasons.REPLACE_QTY_AT_OR_BELOW_FILLED if quantity <= cum_qty else ""


def replace_price_problem(order_type: str) -> str:
    """Only an order that carries a limit price may get a new one."""
    return "" if has_limit_price(order_type) else reasons.REPLACE_INVALID


def replace_stop_problem(stop_waiting: bool) -> str:
    """Only a stop that has not triggered yet may get a new stop price (the intake, which
    cannot know, asks for any stop order; the venue has the last word). A trailing stop's
    stop follows the market: give it a new trail instead (`replace_trail_problem`)."""
    return "" if stop_waiting else reasons.REPLACE_INVALID


def replace_trail_problem(order_type: str, trail_amount: int, trail_cbps: int) -> str:
    """A new trail (one of `trail_amount` / `trail_cbps`, the other 0) for a trailing stop
    only; (0, 0) changes nothing."""
    if trail_amount == 0 and trail_cbps == 0:
        return ""
    if order_type != TRAILING_STOP:
        return reasons.REPLACE_INVALID
    return trail_problem(order_type, trail_amount, trail_cbps)


def replace_leg_problem(leg: str, quantity_changes: bool) -> str:
    """An exit of a contingent group (take-profit, stop-loss) follows its group's quantity:
    its own quantity cannot be replaced (replace the entry's; an OCO pair's is fixed)."""
    if quantity_changes and leg in _EXITS:
        return reasons.LEG_QUANTITY_FOLLOWS_ENTRY
    return ""


def replace_problem(
    order_type: str,
    cum_qty: int,
    quantity: int,
    new_price: bool,
    new_stop: bool,
    stop_waiting: bool,
    leg: str = "",
    quantity_changes: bool = False,
    trail_amount: int = 0,
    trail_cbps: int = 0,
) -> str:
    """The reason code a replace must be rejected with, or "": `quantity` is the new total,
    `cum_qty` what is done already (see `replace_quantity_problem`), `new_price` /
    `new_stop` whether it changes the limit / stop price, `quantity_changes` whether the
    quantity differs from the order's, `trail_*` a new trail (0, 0: unchanged)."""
    reason = replace_leg_problem(leg, quantity_changes)
    if not reason:
        reason = replace_quantity_problem(quantity, cum_qty)
    if not reason and new_price:
        reason = replace_price_problem(order_type)
    if not reason and new_stop:
        reason = replace_stop_problem(stop_waiting and has_stop_price(order_type))
    if not reason:
        reason = replace_trail_problem(order_type, trail_amount, trail_cbps)
    return reason
