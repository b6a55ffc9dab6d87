"""Pre-trade risk checks. Each failure names a stable reason code (shared.domain.reasons).

The checks of the order alone (trading states, price collar, the notional of one order) run
here; the limits an order takes a share of (rate, open orders, orders today, buying power)
are checked and taken in the account's risk ledger, in the same atomic step as the order is
stored (shared.services.limits), so they hold however many orders arrive at once.

Buying power (in place of the former check of open plus filled notional against the credit
limit): an order's notional must not exceed the account's buying power
(`shared.services.balances`: equity + credit limit - gross market value - open orders),
unless it can only reduce the account's position. `ask_for` reads what the rule needs
besides the ledger.

Placing an order stops at the first failure; a preview runs every check and reports all.
Money is Decimal in the quote currency: lots x lot size x ticks x tick size.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from shared.domain import reasons
from shared.domain.enums import Leg, Side, TradingState
from shared.domain.instrument import Instrument
from shared.domain.order import OPEN_STATUSES as _OPEN_STATUSES
from shared.domain.order import Order
from shared.ports.store_accounts import Account
from shared.ports.store_errors import VersionConflict
from shared.ports.store_paging import MAX_PAGE_SIZE
from shared.ports.store_risk import RiskLedger
from shared.services import balances, codes
from shared.services.checklist import Checklist
from shared.services.deps import Deps
from shared.services.errors import ServiceError
from shared.services.limits import Ask, money
from shared.services.reducing import any_order, increase_field, reduce_only_order
from shared.services.states import global_state
from shared.services.tickets import Ticket

OPEN_STATUSES = frozenset(_OPEN_STATUSES)
_known_ledgers: set[str] = set()  # accounts whose ledger is stored (ledgers are never deleted)


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


def valuation_price(instrument: Instrument, ticket: Ticket) -> int | None:
    """The price an order is valued at: its limit, else its stop, else the reference."""
    return ticket.limit_price or ticket.stop_price or instrument.reference_price


def order_notional(instrument: Instrument, ticket: Ticket, lots: int) -> Decimal | None:
    price = valuation_price(instrument, ticket)
    return None if price is None else money(instrument, lots, price)


_NS_PER_DAY = 86_400 * 1_000_000_000


@functools.lru_cache(maxsize=4)
def _yyyymmdd(day_number: int) -> str:
    return datetime.fromtimestamp(day_number * 86_400, UTC).strftime("%Y%m%d")


def utc_day(now: int) -> tuple[str, int]:
    """The UTC day of `now` as yyyymmdd and its start in ns (a Unix day is 86,400 s)."""
    day_number = now // _NS_PER_DAY
    return _yyyymmdd(day_number), day_number * _NS_PER_DAY


async def _count_orders(deps: Deps, account: Account, **filters: object) -> int:
    count, cursor = 0, None
    while True:
        page = await deps.store.orders.list_orders(
            account.account_id,
            limit=MAX_PAGE_SIZE,
            cursor=cursor,
            **filters,  # type: ignore[arg-type]
        )
        count += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return count


async def ledger_of(deps: Deps, account: Account, now: int) -> RiskLedger:
    """The account's ledger as stored, or the one to start it with: a full rate bucket,
    and (an account with orders from before ledgers) its open orders and today's orders
    counted from the store; those older orders hold no credit."""
    burst = float(account.risk_limits.burst)
    fresh = RiskLedger(account.account_id, rate_tokens=burst, rate_at=now)
    if account.account_id in _known_ledgers:
        return fresh  # only used if none is stored, which cannot happen any more
    stored = await deps.store.risk.get(account.account_id)
    if stored is not None:
        _known_ledgers.add(account.account_id)
        return stored
    day, start = utc_day(now)
    counts, _ = await _open_orders_of(deps, account)
    return dataclasses.replace(
        fresh,
        open_orders=sum(counts.values()),
        open_symbols=counts,
        day=day,
        day_orders=await _count_orders(deps, account, since=start),
    )


async def stored_ledger(deps: Deps, account: Account, now: int) -> RiskLedger:
    """The account's ledger as it stands now, always read from the store (a preview's
    figures): `ledger_of` skips the read once the ledger is known to be stored, as the
    placing path only needs it to start a ledger."""
    stored = await deps.store.risk.get(account.account_id)
    if stored is not None:
        return stored
    return await ledger_of(deps, account, now)


def ledger_stored(account_id: str) -> None:
    """Remember that the account's ledger is stored (so `ledger_of` reads nothing)."""
    _known_ledgers.add(account_id)


async def _open_orders_of(deps: Deps, account: Account) -> tuple[dict[str, int], Decimal]:
    """How many open orders the account has on each instrument, and the buying power they
    hold."""
    counts: dict[str, int] = {}
    held, cursor = Decimal(0), None
    while True:
        page = await deps.store.orders.list_orders(
            account.account_id, statuses=OPEN_STATUSES, limit=MAX_PAGE_SIZE, cursor=cursor
        )
        for order in page.items:
            counts[order.symbol] = counts.get(order.symbol, 0) + 1
            held += order.reserved
        cursor = page.next_cursor
        if cursor is None:
            return counts, held


async def rebuild_ledger(deps: Deps, account: Account, now: int) -> RiskLedger:
    """Recount the account's ledger from its orders (its open orders and the credit they
    hold, today's orders; the rate bucket as it is) and store it, conditionally on the
    version read first (again from the top if anything changed it meanwhile).

    Run it while the account is halted: a store without transactions takes a placement's
    share before it writes the order, and a recount between the two would miss it."""
    for _ in range(50):
        stored = await deps.store.risk.get(account.account_id)
        counts, held = await _open_orders_of(deps, account)
        day, start = utc_day(now)
        today = await _count_orders(deps, account, since=start)
        base = stored or RiskLedger(
            account.account_id, rate_tokens=float(account.risk_limits.burst), rate_at=now
        )
        counted = dataclasses.replace(
            base,
            open_orders=sum(counts.values()),
            open_symbols=counts,
            open_notional=held,
            day=day,
            day_orders=today,
        )
        try:
            rebuilt = await deps.store.risk.put(counted, None if stored is None else stored.version)
        except VersionConflict:
            continue
        _known_ledgers.add(account.account_id)
        return rebuilt
    raise VersionConflict(account.account_id, -1, -1)


async def ask_for(
    deps: Deps,
    account: Account,
    instrument: Instrument,
    ticket: Ticket,
    now: int,
    replacing: Order | None = None,
    orders: int = 1,
) -> Ask:
    """What the order asks of the account's limits: for a new order, the buying power of
    its quantity at its price; for a replace, what its new open quantity at its new price
    is worth more than the order holds now. With it, what the rule needs besides the
    ledger: the account's buying power before its open orders, and whether the order can
    only reduce its position (both as read now). `orders`: how many orders the request
    places (a contingent group's, checked as its head: see `holds_power`).

    A reduce-only order holds no buying power: it can only shrink the position (the intake
    refuses one that would exceed it with the account's other open reduce-only orders, and
    the matcher trims what no longer reduces after a fill)."""
    leaves = ticket.quantity - (replacing.cum_qty if replacing else 0)
    worth = order_notional(instrument, ticket, leaves) or Decimal(0)
    if ticket.reduce_only or not holds_power(ticket.order_class.value, ticket.leg, replacing):
        worth = Decimal(0)
    notional = worth if replacing is None else max(Decimal(0), worth - replacing.reserved)
    positions = await deps.store.positions.list_positions(account.account_id)
    known: dict[str, Instrument | None] = {instrument.symbol: instrument}
    power = await balances.power_before_orders(deps, account, now, positions, known)
    net = next((p.net_quantity for p in positions if p.symbol == ticket.symbol), 0)
    reduces = 0 < leaves <= (-net if ticket.side is Side.BUY else net)
    return Ask(
        notional,
        power,
        now,
        utc_day(now)[0],
        new_order=replacing is None,
        symbol=ticket.symbol,
        reduces=reduces,
        orders=orders,
    )


def holds_power(order_class: str, leg: str, replacing: Order | None = None) -> bool:
    """Whether an order of a group holds buying power: only its head (a bracket's or an
    OTO's entry, an OCO's take-profit). A bracket's or OTO's exits close the position its
    entry opens (they go live only for what the entry filled, and that position already
    counts in the buying power through its market value), and an OCO's stop-loss is the
    take-profit's alternative (together they never fill more than the group's quantity).
    A reduce-only order holds none either (see `ask_for`)."""
    if replacing is not None:
        return not replacing.parent_order_id
    return (
        order_class == "simple"
        or leg in ("", Leg.ENTRY.value)
        or (order_class == "oco" and leg == Leg.TAKE_PROFIT.value)
    )


_SCOPES = ("global_trading_state", "account_trading_state", "instrument_trading_state")


async def _state_failure(
    deps: Deps,
    account: Account,
    instrument: Instrument,
    ticket: Ticket,
    leaves: int,
    replacing: str | None,
    checklist: Checklist | None = None,
) -> RiskFailure | None:
    """The first trading state (the kill switch: global, account, instrument) that refuses
    the order; with a checklist, each scope is recorded."""
    scopes = (
        (await global_state(deps.store), reasons.TRADING_HALTED, codes.TRADING_REDUCING_ONLY),
        (account.trading_state, reasons.ACCOUNT_HALTED, reasons.ACCOUNT_REDUCING_ONLY),
        (instrument.trading_state, reasons.INSTRUMENT_HALTED, reasons.INSTRUMENT_REDUCING_ONLY),
    )
    first: RiskFailure | None = None
    for name, (state, halted, reducing) in zip(_SCOPES, scopes, strict=True):
        failure: RiskFailure | None = None
        if state is TradingState.HALTED:
            failure = RiskFailure(halted, "trading is halted")
        elif state is TradingState.REDUCING:
            if ticket.leg == Leg.ENTRY.value:  # its exits would open the position again
                detail = "only orders that reduce the position: no bracket or oto entries"
                failure = RiskFailure(reducing, detail, "order_class")
            else:
                # With the account's other open orders on that side: together they may not
                # flip the position (shared.services.reducing).
                field = await increase_field(
                    deps,
                    account.account_id,
                    ticket.symbol,
                    ticket.side,
                    leaves,
                    any_order,
                    replacing,
                )
                if field is not None:
                    detail = "only orders that reduce the position (with the open ones) are allowed"
                    failure = RiskFailure(reducing, detail, field)
        if checklist is None:
            if failure is not None:
                return failure
            continue
        if failure is not None:
            checklist.failed(
                name, failure.reason, failure.detail, field=failure.field, value=state.value
            )
            first = first or failure
        else:
            detail = (
                "trading is active" if state is TradingState.ACTIVE else "it reduces the position"
            )
            checklist.passed(name, detail, value=state.value)
    return first


def _collar_failure(
    instrument: Instrument, ticket: Ticket, checklist: Checklist | None = None
) -> RiskFailure | None:
    reference = instrument.reference_price
    if reference is None:
        if checklist is not None:
            checklist.passed("price_collar", "no reference price yet: no collar")
        return None
    first: RiskFailure | None = None
    for field, price in (("limit_price", ticket.limit_price), ("stop_price", ticket.stop_price)):
        if price is None:
            continue
        outside = abs(price - reference) * 10_000 > reference * (instrument.price_collar_bps)
        if not outside and checklist is None:
            continue
        band = f"{instrument.price_collar_bps} bps of {instrument.price_str(reference)}"
        failure = RiskFailure(reasons.PRICE_OUTSIDE_COLLAR, f"outside {band}", field)
        if checklist is None:
            return failure
        shown = instrument.price_str(price)
        figures = {"field": field, "value": shown, "limit": band}
        if outside:
            checklist.failed("price_collar", failure.reason, failure.detail, **figures)
            first = first or failure
        else:
            checklist.passed("price_collar", f"{shown} is within {band}", **figures)
    if checklist is not None and ticket.limit_price is None and ticket.stop_price is None:
        checklist.passed("price_collar", "a market order has no price to hold to the collar")
    return first


async def evaluate(
    deps: Deps,
    account: Account,
    instrument: Instrument,
    ticket: Ticket,
    now: int,
    *,
    first_only: bool,
    replacing: Order | None = None,
    checklist: Checklist | None = None,
) -> list[RiskFailure]:
    """Run the checks of the order alone, in order; with `first_only`, stop at the first
    failure. (The limits it takes a share of are checked in the ledger: limits.py.)

    For a replace (`replacing` = the order as stored), its new open quantity counts (and
    its own open quantity is not counted twice among the reducing side's open orders). With
    a checklist (a preview: not `first_only`), each check is recorded, passed or failed."""
    failures: list[RiskFailure] = []

    def fail(failure: RiskFailure | None) -> bool:
        if failure is not None:
            failures.append(failure)
        return bool(failures) and first_only

    leaves = ticket.quantity - (replacing.cum_qty if replacing else 0)
    limits = account.risk_limits
    replacing_id = replacing.order_id if replacing else None
    state_failure = await _state_failure(
        deps, account, instrument, ticket, leaves, replacing_id, checklist
    )
    if fail(state_failure):
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
        failure = (
            None
            if field is None
            else RiskFailure(reasons.REDUCE_ONLY_WOULD_INCREASE, detail, field)
        )
        if checklist is not None:
            if failure is None:
                checklist.passed("reduce_only", "it only reduces the position", field="reduce_only")
            else:
                checklist.failed("reduce_only", failure.reason, detail, field=field)
        if fail(failure):
            return failures
    if fail(_collar_failure(instrument, ticket, checklist)):
        return failures
    notional = order_notional(instrument, ticket, ticket.quantity)
    most = limits.max_order_notional
    if notional is None:
        detail = "no reference price yet to value a market order: send a limit order"
        fail(RiskFailure(reasons.INSTRUMENT_NOT_TRADING, detail, "type"))
        if checklist is not None:
            checklist.failed(
                "max_order_notional",
                reasons.INSTRUMENT_NOT_TRADING,
                detail,
                field="type",
                limit=_plain(most),
            )
    elif notional > most:
        detail = f"notional {notional} is above the limit {most}"
        fail(RiskFailure(reasons.NOTIONAL_EXCEEDS_LIMIT, detail, "quantity"))
        if checklist is not None:
            checklist.failed(
                "max_order_notional",
                reasons.NOTIONAL_EXCEEDS_LIMIT,
                detail,
                field="quantity",
                value=_plain(notional),
                limit=_plain(most),
            )
    elif checklist is not None:
        checklist.passed(
            "max_order_notional",
            f"notional {_plain(notional)} is within the limit {_plain(most)}",
            field="quantity",
            value=_plain(notional),
            limit=_plain(most),
        )
    return failures


def _plain(amount: Decimal) -> str:
    return format(amount.normalize(), "f")
