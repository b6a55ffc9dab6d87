"""An account's money: cash (settled and not), market value, equity, buying power, P&L.

Cash = the account's starting cash + its cash ledger (deposits, withdrawals, resets) + what
its fills moved (sold minus bought notional, minus fees: kept on each position by the
projector, see `shared.domain.positions`). Positions are valued at their marks
(`shared.services.marks`). The rule for buying power (also in the README):

    buying_power = max(0, equity + credit_limit - gross_market_value - open_order_notional)

`credit_limit` (a risk limit) is how far beyond its own equity the account may go: 0 makes
a cash account. Long and short positions use it alike, at their market value. Open orders
count at what they hold of it in the account's risk ledger (`shared.services.limits`): each
its open quantity at its limit (else stop, else reference) price, as taken when it was
placed, so the figure shown is the one the pre-trade check takes an order's share of. An
order that only reduces a position needs none (see `shared.services.limits`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from shared.domain.enums import AccountType
from shared.domain.instrument import Instrument
from shared.domain.positions import (
    FEE_UNITS,
    Grid,
    Position,
    PositionValue,
    grid_of,
    utc_day,
    value,
)
from shared.ports.store_accounts import Account
from shared.ports.store_cash import cash_money
from shared.ports.store_paging import MAX_PAGE_SIZE
from shared.services.deps import Deps
from shared.services.marks import Mark, mark_of, marks_of

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ValuedPosition:
    """A position, its instrument, its mark and its money at that mark."""

    position: Position
    instrument: Instrument
    mark: Mark
    money: PositionValue


@dataclass(frozen=True, slots=True)
class AccountMoney:
    """An account's money now, in its currency (see the module docstring)."""

    account_id: str
    currency: str
    starting_cash: Decimal
    ledger: Decimal
    cash: Decimal
    settled_cash: Decimal
    unsettled_cash: Decimal
    long_market_value: Decimal
    short_market_value: Decimal
    equity: Decimal
    open_order_notional: Decimal
    buying_power: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    pnl_today: Decimal
    as_of: int
    positions: list[ValuedPosition] = field(default_factory=list)

    @property
    def gross_market_value(self) -> Decimal:
        return self.long_market_value - self.short_market_value


def power_before(cash: Decimal, short_market_value: Decimal, credit_limit: Decimal) -> Decimal:
    """The README's rule before the open orders, `equity + credit_limit - gross market
    value`, written as it computes: a long position counts once in equity and once in gross
    market value, so `equity - gross = cash + 2 x short market value` (negative). May be
    below 0."""
    return cash + 2 * short_market_value + credit_limit


def buying_power(
    cash: Decimal, short_market_value: Decimal, credit_limit: Decimal, open_orders: Decimal
) -> Decimal:
    """The README's rule, `max(0, equity + credit_limit - gross market value - open
    orders)`."""
    return max(ZERO, power_before(cash, short_market_value, credit_limit) - open_orders)


async def power_before_orders(
    deps: Deps,
    account: Account,
    now: int,
    positions: Iterable[Position],
    instruments: dict[str, Instrument | None],
) -> Decimal:
    """The account's buying power before its open orders, reading only what the rule needs:
    its cash (the ledger and every position's cash) and the marks of its short positions
    (the pre-trade check's path: long positions need no mark)."""
    cash = account.starting_cash + await ledger_balance(deps, account.account_id)
    short = ZERO
    paper = account.type is AccountType.PAPER
    for position in positions:
        instrument = await _instrument(deps, instruments, position.symbol)
        if instrument is None:
            continue
        g = grid(instrument)
        flow = (position.sold_notional - position.bought_notional) * FEE_UNITS - position.fees
        cash += g.fee_money(flow)
        if position.net_quantity < 0:
            price = (await mark_of(deps, instrument, paper, now)).price
            short += g.money(position.cost if price is None else position.net_quantity * price)
    return power_before(cash, short, account.risk_limits.credit_limit)


def grid(instrument: Instrument) -> Grid:
    return grid_of(instrument.tick_size, instrument.lot_size)


def valued(position: Position, instrument: Instrument, mark: Mark, today: int) -> PositionValue:
    """The position's money at its mark (at its cost when it has none)."""
    if mark.price is None:
        money = value(position, grid(instrument), 0, 0, today)
        return replace(
            money,
            market_value=money.cost_basis,
            unrealized_pnl=ZERO,
            pnl_today=money.pnl_today + money.cost_basis,
        )
    start = mark.start_price if mark.start_price is not None else mark.price
    return value(position, grid(instrument), mark.price, start, today)


async def open_order_notional(deps: Deps, account_id: str) -> Decimal:
    """What the account's open orders hold of its buying power, as its risk ledger says
    (orders from before ledgers hold none)."""
    ledger = await deps.store.risk.get(account_id)
    return ZERO if ledger is None else ledger.open_notional


async def _instrument(
    deps: Deps, instruments: dict[str, Instrument | None], symbol: str
) -> Instrument | None:
    if symbol not in instruments:
        instruments[symbol] = await deps.store.instruments.get(symbol)
    return instruments[symbol]


async def ledger_balance(deps: Deps, account_id: str) -> Decimal:
    """The sum of the account's cash ledger (deposits, withdrawals, resets)."""
    last = await deps.store.cash.last(account_id)
    return cash_money(last.balance) if last is not None else ZERO


async def ledger_since(deps: Deps, account_id: str, since: int) -> Decimal:
    """What the account's cash ledger moved from `since` (ns) on: deposits, withdrawals and
    resets since then (reads the newest entries only)."""
    moved, cursor = 0, None
    while True:
        page = await deps.store.cash.list_entries(account_id, limit=MAX_PAGE_SIZE, cursor=cursor)
        for entry in page.items:
            if entry.at < since:
                return cash_money(moved)
            moved += entry.amount
        cursor = page.next_cursor
        if cursor is None:
            return cash_money(moved)


async def account_money(
    deps: Deps,
    account: Account,
    now: int,
    *,
    positions: Iterable[Position] | None = None,
    instruments: dict[str, Instrument | None] | None = None,
    open_notional: Decimal | None = None,
) -> AccountMoney:
    """The account's money now (ns). Pass what the caller has read already (its positions,
    instruments, open order notional) to save reading it again."""
    known: dict[str, Instrument | None] = {} if instruments is None else instruments
    if positions is None:
        positions = await deps.store.positions.list_positions(account.account_id)
    if open_notional is None:
        open_notional = await open_order_notional(deps, account.account_id)
    held: list[tuple[Position, Instrument]] = []
    for position in positions:
        instrument = await _instrument(deps, known, position.symbol)
        if instrument is not None:
            held.append((position, instrument))
    paper = account.type is AccountType.PAPER
    marks = await marks_of(deps, (i for _, i in held), paper, now)
    return summarize(
        account, now, await ledger_balance(deps, account.account_id), held, marks, open_notional
    )


def summarize(
    account: Account,
    now: int,
    ledger: Decimal,
    held: Iterable[tuple[Position, Instrument]],
    marks: Mapping[str, Mark],
    open_notional: Decimal,
) -> AccountMoney:
    """Add the positions' money up (pure; see the module docstring for the rules)."""
    today = utc_day(now)
    rows = [
        ValuedPosition(p, i, marks[i.symbol], valued(p, i, marks[i.symbol], today)) for p, i in held
    ]
    cash = account.starting_cash + ledger + sum((r.money.cash_flow for r in rows), ZERO)
    unsettled = sum((r.money.unsettled_cash for r in rows), ZERO)
    long_value = sum((r.money.market_value for r in rows if r.money.market_value > 0), ZERO)
    short_value = sum((r.money.market_value for r in rows if r.money.market_value < 0), ZERO)
    equity = cash + long_value + short_value
    power = buying_power(cash, short_value, account.risk_limits.credit_limit, open_notional)
    return AccountMoney(
        account_id=account.account_id,
        currency=account.currency,
        starting_cash=account.starting_cash,
        ledger=ledger,
        cash=cash,
        settled_cash=cash - unsettled,
        unsettled_cash=unsettled,
        long_market_value=long_value,
        short_market_value=short_value,
        equity=equity,
        open_order_notional=open_notional,
        buying_power=power,
        realized_pnl=sum((r.money.realized_pnl for r in rows), ZERO),
        unrealized_pnl=sum((r.money.unrealized_pnl for r in rows), ZERO),
        fees=sum((r.money.fees for r in rows), ZERO),
        pnl_today=sum((r.money.pnl_today for r in rows), ZERO),
        as_of=now,
        positions=rows,
    )
