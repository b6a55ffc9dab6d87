"""Positions and their money: what one account holds in one instrument, what it cost, what
it earned, and how its cash moved. Pure; the projector applies every fill through `after_fill`
and the API values positions at a mark with `value`.

Conventions (also in the README):
- Average cost. A fill that opens or adds to a position adds its notional to the cost
  basis (`cost`, signed like the quantity: positive long, negative short). A fill that
  reduces it takes out the closed share of the cost basis, `cost * closed / |net|`, rounded
  half to even to one tick x lot (the only rounding anywhere), and realizes the difference
  to the fill's notional. A fill larger than the position closes it and opens the rest the
  other way at the fill price (a flip, long to short in one fill).
- Realized P&L is gross of fees; fees are kept apart; net P&L = realized - fees.
- Cash moves by every fill (sold minus bought notional) and every fee, the day the fill
  happens; the part not yet settled is held in buckets by settlement day.
- Integers throughout: quantities in lots, notionals and P&L in ticks x lots, fees in engine
  fee units (ticks x lots / 1,000,000). Money comes out as Decimal only in `value`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

NS_PER_DAY = 86_400 * 1_000_000_000
FEE_UNITS = 1_000_000  # fee units per tick x lot
_EPOCH = date(1970, 1, 1)

Bucket = tuple[int, int, int]  # (settlement day, notional flow, fees) not settled yet


@dataclass(frozen=True, slots=True)
class Position:
    """One account's position in one instrument.

    Quantities in lots; `bought_notional`, `sold_notional`, `cost` (the open position's cost
    basis, signed like `net_quantity`) and `realized` (gross of fees) in ticks x lots; fees in
    engine fee units. The `day_*` fields describe the UTC day `day` (days since the epoch):
    the quantity held when it began, and the cash its fills moved. `unsettled`: cash of fills
    whose settlement day is still ahead, per day, in day order. `updated_at` is the last
    fill's time (ns)."""

    account_id: str
    symbol: str
    net_quantity: int = 0
    bought_quantity: int = 0
    sold_quantity: int = 0
    bought_notional: int = 0
    sold_notional: int = 0
    fees: int = 0
    updated_at: int = 0
    cost: int = 0
    realized: int = 0
    day: int = 0
    day_start_quantity: int = 0
    day_flow: int = 0
    day_fees: int = 0
    unsettled: tuple[Bucket, ...] = ()


@dataclass(frozen=True, slots=True)
class Fill:
    """What a fill does to a position: side, lots, price in ticks, fee in fee units, its
    time (ns) and its settlement day (days since the epoch)."""

    is_buy: bool
    quantity: int
    price: int
    fee: int
    ts: int
    settle_day: int


def div_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) rounded half to even, exactly."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def utc_day(ts: int) -> int:
    """The UTC day of a time in ns, as days since the epoch."""
    return ts // NS_PER_DAY


def day_date(day: int) -> date:
    return _EPOCH + timedelta(days=day)


def settlement_day(ts: int, cycle_days: int) -> int:
    """The settlement day of a trade at `ts` settling T+`cycle_days` business days
    (Saturdays and Sundays are no business days; there is no holiday calendar). A trade
    settles at the start (00:00 UTC) of that day; T+0 settles on the trade day."""
    return _settlement_day(utc_day(ts), cycle_days)


@functools.lru_cache(maxsize=64)
def _settlement_day(day: int, cycle_days: int) -> int:
    left = cycle_days
    while left > 0:
        day += 1
        if day_date(day).weekday() < 5:
            left -= 1
    return day


def after_fill(position: Position, fill: Fill) -> Position:
    """The position after one fill (see the module's conventions)."""
    p = position
    qty, notional = fill.quantity, fill.quantity * fill.price
    sign = 1 if fill.is_buy else -1
    net, cost, realized = p.net_quantity, p.cost, p.realized
    if net == 0 or (net > 0) == fill.is_buy:
        net, cost = net + sign * qty, cost + sign * notional
    else:
        closed = min(qty, abs(net))
        removed = div_half_even(cost * closed, abs(net))
        realized += -sign * closed * fill.price - removed
        cost -= removed
        net += sign * closed
        opened = qty - closed
        if opened:  # a flip: the rest opens the other way at the fill's price
            net, cost = sign * opened, sign * opened * fill.price
    flow = -sign * notional
    trade_day = utc_day(fill.ts)
    day, start, day_flow, day_fees = p.day, p.day_start_quantity, p.day_flow, p.day_fees
    if trade_day > day:
        day, start, day_flow, day_fees = trade_day, p.net_quantity, 0, 0
    if trade_day == day:
        day_flow, day_fees = day_flow + flow, day_fees + fill.fee
    unsettled = p.unsettled
    if unsettled or fill.settle_day > trade_day:
        unsettled = _unsettled(unsettled, trade_day, fill.settle_day, flow, fill.fee)
    bought, sold = (qty, 0) if fill.is_buy else (0, qty)
    # Positional: the projector's hot path (dataclasses.replace costs twice as much).
    return Position(
        p.account_id,
        p.symbol,
        net,
        p.bought_quantity + bought,
        p.sold_quantity + sold,
        p.bought_notional + bought * fill.price,
        p.sold_notional + sold * fill.price,
        p.fees + fill.fee,
        max(p.updated_at, fill.ts),
        cost,
        realized,
        day,
        start,
        day_flow,
        day_fees,
        unsettled,
    )


def _unsettled(
    buckets: tuple[Bucket, ...], trade_day: int, settle_day: int, flow: int, fee: int
) -> tuple[Bucket, ...]:
    """Add a fill's cash to its settlement day's bucket (none when it settles on its trade
    day) and drop the buckets settled by the fill's day (a function of the fills alone, so
    every replay keeps the same buckets)."""
    kept: list[Bucket] = []
    added = settle_day <= trade_day
    for day, f, c in buckets:
        if day <= trade_day:
            continue
        if day == settle_day:
            f, c, added = f + flow, c + fee, True
        if f or c:
            kept.append((day, f, c))
    if not added:
        kept.append((settle_day, flow, fee))
        kept.sort()
    return tuple(kept)


def settled_early(position: Position, settle_day: int, flow: int, fee: int) -> Position:
    """The position after one fill's cash (its `flow` and `fee`) settles before its day:
    the cash leaves its bucket (a bucket already settled by the calendar is left alone)."""
    kept = []
    for day, f, c in position.unsettled:
        if day == settle_day:
            f, c = f - flow, c - fee
        if (f, c) != (0, 0):
            kept.append((day, f, c))
    return replace(position, unsettled=tuple(kept))


def fill_flow(is_buy: bool, quantity: int, price: int) -> int:
    """The cash (ticks x lots) a fill moves, before its fee: paid for a buy, got for a sell."""
    return -quantity * price if is_buy else quantity * price


# ------------------------------------------------------------------ valuation


@dataclass(frozen=True, slots=True)
class Grid:
    """An instrument's tick and lot size: turns integers into money. `unit` is one tick x
    lot in money, `fee_unit` one engine fee unit (see `grid_of`)."""

    tick_size: Decimal
    lot_size: Decimal
    unit: Decimal
    fee_unit: Decimal

    def money(self, ticks_x_lots: int) -> Decimal:
        return ticks_x_lots * self.unit

    def fee_money(self, fee_units: int) -> Decimal:
        return fee_units * self.fee_unit


@functools.lru_cache(maxsize=1024)
def grid_of(tick_size: Decimal, lot_size: Decimal) -> Grid:
    unit = tick_size * lot_size
    return Grid(tick_size, lot_size, unit, unit / FEE_UNITS)


@dataclass(frozen=True, slots=True)
class PositionValue:
    """A position's money at a mark price, as of a day (Decimal, the quote currency).

    `average_entry_price` is per unit of the instrument (None when flat); `unsettled_cash`
    is the part of `cash_flow` whose settlement day is after `today`."""

    average_entry_price: Decimal | None
    cost_basis: Decimal
    market_value: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    fees: Decimal
    cash_flow: Decimal
    unsettled_cash: Decimal
    pnl_today: Decimal


def value(position: Position, grid: Grid, mark: int, start_mark: int, today: int) -> PositionValue:
    """Value the position at `mark` (ticks). `start_mark` is the mark at the start of the
    UTC day `today`: P&L today is the day's cash (fills and fees) plus the change in value
    of what is held, `net x mark - start quantity x start_mark`."""
    p = position
    # Integers first (fee units: exact), one conversion to money per figure.
    market_units = p.net_quantity * mark
    average = None
    if p.net_quantity:
        average = Decimal(p.cost) / p.net_quantity * grid.tick_size
    flow = (p.sold_notional - p.bought_notional) * FEE_UNITS - p.fees
    unsettled = sum(f * FEE_UNITS - c for day, f, c in p.unsettled if day > today)
    if p.day == today:
        start, day_cash = p.day_start_quantity, p.day_flow * FEE_UNITS - p.day_fees
    else:
        start, day_cash = p.net_quantity, 0
    today_units = day_cash + (market_units - start * start_mark) * FEE_UNITS
    return PositionValue(
        average_entry_price=average,
        cost_basis=grid.money(p.cost),
        market_value=grid.money(market_units),
        unrealized_pnl=grid.money(market_units - p.cost),
        realized_pnl=grid.money(p.realized),
        fees=grid.fee_money(p.fees),
        cash_flow=grid.fee_money(flow),
        unsettled_cash=grid.fee_money(unsettled),
        pnl_today=grid.fee_money(today_units),
    )


def today_of(now_ns: int) -> int:
    """The UTC day of now (days since the epoch)."""
    return utc_day(now_ns)


def date_of(day: int) -> str:
    """A day number as an ISO date (`2024-05-01`)."""
    return day_date(day).isoformat()


def day_start_ns(day: int) -> int:
    return day * NS_PER_DAY
