"""Pre-trade risk checks. Each failure names a stable reason code (shared.domain.reasons).

Placing an order stops at the first failure; a preview runs every check and reports all.
Money is Decimal in the quote currency: lots x lot size x ticks x tick size.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from shared.domain import reasons
from shared.domain.enums import Leg, TradingState
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.ports.cache import daily_key, rate_key
from shared.ports.store_accounts import Account
from shared.ports.store_paging import MAX_PAGE_SIZE
from shared.services import codes
from shared.services.deps import Deps
from shared.services.errors import RateLimited, ServiceError
from shared.services.reducing import any_order, increase_field, reduce_only_order
from shared.services.states import global_state
from shared.services.tickets import Ticket

_DAY_TTL = 2 * 86_400.0


@dataclass(frozen=True, slots=True)
class RiskFailure:
    reason: str
    detail: str
    field: str | None = None


def raise_first(failures: list[RiskFailure]) -> None:
    """Raise the first failure (as a ServiceError), if there is one."""
    if failures:
        first = failures[0]
        raise ServiceError(first.reason, first.detail, first.field)


def money(instrument: Instrument, lots: int, ticks: int) -> Decimal:
    return Decimal(lots) * instrument.lot_size * Decimal(ticks) * instrument.tick_size


def valuation_price(instrument: Instrument, ticket: Ticket) -> int | None:
    """The price an order is valued at: its limit, else its stop, else the reference."""
    return ticket.limit_price or ticket.stop_price or instrument.reference_price


def order_notional(instrument: Instrument, ticket: Ticket, lots: int) -> Decimal | None:
    price = valuation_price(instrument, ticket)
    return None if price is None else money(instrument, lots, price)


async def take_rate_token(deps: Deps, account: Account, now: int, *, peek: bool = False) -> None:
    """Take one token of the account's order-rate bucket; RateLimited when it is empty."""
    limits = account.risk_limits
    allowed = await deps.cache.take_token(
        rate_key(account.account_id),
        float(limits.rate_per_second),
        limits.burst,
        now,
        take=0 if peek else 1,
    )
    if not allowed:
        retry_after = 1.0 / max(limits.rate_per_second, 1)
        raise RateLimited(
            reasons.RATE_LIMIT_EXCEEDED,
            f"more than {limits.rate_per_second} orders per second (burst {limits.burst})",
            retry_after,
        )


_NS_PER_DAY = 86_400 * 1_000_000_000


@functools.lru_cache(maxsize=4)
def _yyyymmdd(day_number: int) -> str:
    return datetime.fromtimestamp(day_number * 86_400, UTC).strftime("%Y%m%d")


def utc_day(now: int) -> tuple[str, int]:
    """The UTC day of `now` as yyyymmdd and its start in ns (a Unix day is 86,400 s)."""
    day_number = now // _NS_PER_DAY
    return _yyyymmdd(day_number), day_number * _NS_PER_DAY


async def orders_today(deps: Deps, account: Account, now: int) -> int:
    """Orders the account placed this UTC day: a cache counter, rebuilt from the store."""
    day, start = utc_day(now)
    key = daily_key(account.account_id, day)
    cached = await deps.cache.get(key)
    if cached is not None:
        return int(cached)
    count, cursor = 0, None
    cap = account.risk_limits.max_daily_orders
    while count <= cap:
        page = await deps.store.orders.list_orders(
            account.account_id, since=start, limit=MAX_PAGE_SIZE, cursor=cursor
        )
        count += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    await deps.cache.set(key, str(count).encode(), _DAY_TTL)
    return count


async def count_order_placed(deps: Deps, account: Account, now: int, orders: int = 1) -> None:
    day, _ = utc_day(now)
    if await deps.cache.get(daily_key(account.account_id, day)) is not None:
        await deps.cache.incr(daily_key(account.account_id, day), orders, _DAY_TTL)


@dataclass(slots=True)
class Exposure:
    open_orders: int = 0
    open_notional: Decimal = Decimal(0)
    filled_notional: Decimal = Decimal(0)


async def exposure(
    deps: Deps, account: Account, excluding: str | None = None, known: Instrument | None = None
) -> Exposure:
    """The account's open orders (count and notional) and its filled notional: the net
    traded cash of each position. `excluding` leaves out one order (the one replaced);
    `known` is an instrument the caller has read already (saves reading it again)."""
    instruments: dict[str, Instrument | None] = {}
    if known is not None:
        instruments[known.symbol] = known

    async def instrument_of(symbol: str) -> Instrument | None:
        if symbol not in instruments:
            instruments[symbol] = await deps.store.instruments.get(symbol)
        return instruments[symbol]

    result = Exposure()
    units: dict[str, int] = {}  # lots x ticks per instrument: exact integers, priced once
    for group in await deps.store.orders.open_exposure(account.account_id, excluding):
        result.open_orders += group.open_orders
        instrument = await instrument_of(group.symbol)
        if instrument is None:
            continue
        price = group.price or instrument.reference_price or 0
        units[group.symbol] = units.get(group.symbol, 0) + group.leaves_qty * price
    for symbol, amount in units.items():
        instrument = instruments[symbol]
        assert instrument is not None
        result.open_notional += money(instrument, 1, amount)
    for position in await deps.store.positions.list_positions(account.account_id):
        instrument = await instrument_of(position.symbol)
        if instrument is not None:
            net_cash = abs(position.bought_notional - position.sold_notional)
            result.filled_notional += money(instrument, 1, net_cash)
    return result


async def _state_failure(
    deps: Deps,
    account: Account,
    instrument: Instrument,
    ticket: Ticket,
    leaves: int,
    replacing: str | None,
) -> RiskFailure | None:
    scopes = (
        (await global_state(deps.store), reasons.TRADING_HALTED, codes.TRADING_REDUCING_ONLY),
        (account.trading_state, reasons.ACCOUNT_HALTED, reasons.ACCOUNT_REDUCING_ONLY),
        (instrument.trading_state, reasons.INSTRUMENT_HALTED, reasons.INSTRUMENT_REDUCING_ONLY),
    )
    for state, halted, reducing in scopes:
        if state is TradingState.HALTED:
            return RiskFailure(halted, "trading is halted")
        if state is TradingState.REDUCING:
            if ticket.leg == Leg.ENTRY.value:  # its exits would open the position again
                detail = "only orders that reduce the position: no bracket or oto entries"
                return RiskFailure(reducing, detail, "order_class")
            # With the account's other open orders on that side: together they may not
            # flip the position (shared.services.reducing).
            field = await increase_field(
                deps, account.account_id, ticket.symbol, ticket.side, leaves, any_order, replacing
            )
            if field is not None:
                detail = "only orders that reduce the position (with the open ones) are allowed"
                return RiskFailure(reducing, detail, field)
    return None


def _collar_failure(instrument: Instrument, ticket: Ticket) -> RiskFailure | None:
    reference = instrument.reference_price
    if reference is None:
        return None
    for field, price in (("limit_price", ticket.limit_price), ("stop_price", ticket.stop_price)):
        if price is not None and abs(price - reference) * 10_000 > reference * (
            instrument.price_collar_bps
        ):
            band = f"{instrument.price_collar_bps} bps of {instrument.price_str(reference)}"
            return RiskFailure(reasons.PRICE_OUTSIDE_COLLAR, f"outside {band}", field)
    return None


async def evaluate(
    deps: Deps,
    account: Account,
    instrument: Instrument,
    ticket: Ticket,
    now: int,
    *,
    first_only: bool,
    replacing: Order | None = None,
    orders: int = 1,
) -> list[RiskFailure]:
    """Run the checks in order; with `first_only`, stop at the first failure.

    For a replace (`replacing` = the order as stored), the order's own open quantity is not
    counted twice and the per-order counts (open orders, daily orders) do not apply.
    `orders`: how many orders the request places (a contingent group's)."""
    failures: list[RiskFailure] = []

    def fail(failure: RiskFailure | None) -> bool:
        if failure is not None:
            failures.append(failure)
        return bool(failures) and first_only

    leaves = ticket.quantity - (replacing.cum_qty if replacing else 0)
    limits = account.risk_limits
    replacing_id = replacing.order_id if replacing else None
    if fail(await _state_failure(deps, account, instrument, ticket, leaves, replacing_id)):
        return failures
    if ticket.reduce_only:
        field = await increase_field(
            deps,
            account.account_id,
            ticket.symbol,
            ticket.side,
            leaves,
            reduce_only_order,
            replacing_id,
        )
        detail = "with the open reduce-only orders it would exceed the position"
        if field is not None and fail(
            RiskFailure(reasons.REDUCE_ONLY_WOULD_INCREASE, detail, field)
        ):
            return failures
    if fail(_collar_failure(instrument, ticket)):
        return failures
    notional = order_notional(instrument, ticket, ticket.quantity)
    if notional is None:
        detail = "no reference price yet to value a market order: send a limit order"
        if fail(RiskFailure(reasons.INSTRUMENT_NOT_TRADING, detail, "type")):
            return failures
    elif notional > limits.max_order_notional:
        detail = f"notional {notional} is above the limit {limits.max_order_notional}"
        if fail(RiskFailure(reasons.NOTIONAL_EXCEEDS_LIMIT, detail, "quantity")):
            return failures
    current = await exposure(
        deps, account, replacing.order_id if replacing else None, known=instrument
    )
    if replacing is None and current.open_orders + orders > limits.max_open_orders:
        detail = f"{current.open_orders} open orders (limit {limits.max_open_orders})"
        if fail(RiskFailure(reasons.MAX_OPEN_ORDERS_EXCEEDED, detail)):
            return failures
    if replacing is None:
        today = await orders_today(deps, account, now)
        if today + orders > limits.max_daily_orders:
            detail = f"{today} orders today (limit {limits.max_daily_orders})"
            if fail(RiskFailure(reasons.DAILY_ORDER_LIMIT_EXCEEDED, detail)):
                return failures
    added = order_notional(instrument, ticket, leaves) or Decimal(0)
    total = current.open_notional + current.filled_notional + added
    if total > limits.credit_limit:
        detail = f"open and filled notional {total} would exceed {limits.credit_limit}"
        fail(RiskFailure(reasons.CREDIT_LIMIT_EXCEEDED, detail, "quantity"))
    return failures
