"""Request and response models of an account's money: balances, the cash ledger,
settlement, paper resets."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from functions.schemas import DecimalStr, Identifier, Request, Response


class AccountMoneyOut(Response):
    """The caller's money now, in `currency` (decimal strings). Cash = starting cash + net
    deposits + what fills moved (fees included); equity = cash + long + short market value;
    buying power = max(0, equity + credit limit - gross market value - open order notional)."""

    account_id: str
    currency: str
    cash: str
    settled_cash: str
    unsettled_cash: str
    long_market_value: str
    short_market_value: str
    equity: str
    open_order_notional: str
    buying_power: str
    realized_pnl: str
    unrealized_pnl: str
    fees: str
    net_pnl: str
    pnl_today: str
    starting_cash: str
    net_deposits: str
    as_of: str


class CashMovement(Request):
    """A deposit or withdrawal. `entry_id` makes it once-only: a retry with the same id
    gets the same entry back (and a different movement under it is a 409)."""

    kind: Literal["deposit", "withdrawal"]
    amount: DecimalStr
    entry_id: Identifier
    note: Annotated[str, StringConstraints(max_length=200)] = ""


class CashEntryOut(Response):
    entry_id: str
    seq: int
    kind: str
    amount: str
    balance: str = Field(description="The ledger's sum after this entry (net deposits)")
    at: str
    actor: str
    note: str


class CashEntryPage(Response):
    items: list[CashEntryOut]
    next_cursor: str | None


class SettledExecution(Response):
    execution_id: str
    account_id: str
    settlement_date: str | None
    settled: bool
    settled_at: str | None


class SettledTrade(Response):
    trade_id: str
    executions: list[SettledExecution]


class ResetAccount(Request):
    """A paper account reset. Give `reset_id` to retry (or finish) a reset; the answer waits
    up to `wait_seconds` for the flattening orders to finish."""

    reset_id: Identifier | None = None
    wait_seconds: Annotated[float, Field(ge=0, le=30)] = 10.0


class ResetOut(Response):
    reset_id: str
    status: Literal["flattening", "done"]
    canceled_orders: int
    flattening_orders: list[str]
    cash_entry: CashEntryOut | None
    positions_left: dict[str, str]
