"""Alpaca's account object for an OMS account: the figures of `GET /api/account`
(`shared.services.balances`: cash with deposits, market value at the marks, equity, and
`buying_power`, which is what the pre-trade check takes an order's share of).
`last_equity` is the equity the UTC day began with: today's equity less the P&L today and
less what the cash ledger moved today (deposits, withdrawals, resets). Margin, day-trading
and options figures are 0: the OMS has none of them.
"""

from __future__ import annotations

from shared.alpaca.ids import account_uuid
from shared.alpaca.positions import text
from shared.domain.enums import TradingState
from shared.domain.positions import day_start_ns, today_of
from shared.ports.store_accounts import Account
from shared.services import balances
from shared.services.deps import Deps
from shared.services.views import ns_to_rfc3339

_ZERO = "0"


async def alpaca_account(deps: Deps, account: Account) -> dict[str, object]:
    now = deps.clock()
    money = await balances.account_money(deps, account, now)
    moved_today = await balances.ledger_since(deps, account.account_id, day_start_ns(today_of(now)))
    buying_power = text(money.buying_power)
    equity = text(money.equity)
    blocked = account.trading_state is TradingState.HALTED
    return {
        "id": account_uuid(account.account_id),
        "account_number": account.account_id,
        "status": "ACTIVE",
        "crypto_status": "ACTIVE",
        "currency": money.currency,
        "buying_power": buying_power,
        "regt_buying_power": buying_power,
        "daytrading_buying_power": _ZERO,
        "non_marginable_buying_power": buying_power,
        "options_buying_power": _ZERO,
        "cash": text(money.cash),
        "accrued_fees": _ZERO,
        "pending_transfer_in": _ZERO,
        "pending_transfer_out": _ZERO,
        "portfolio_value": equity,
        "equity": equity,
        "last_equity": text(money.equity - money.pnl_today - moved_today),
        "long_market_value": text(money.long_market_value),
        "short_market_value": text(money.short_market_value),
        "initial_margin": _ZERO,
        "maintenance_margin": _ZERO,
        "last_maintenance_margin": _ZERO,
        "sma": _ZERO,
        "multiplier": "1",
        "pattern_day_trader": False,
        "trading_blocked": blocked,
        "transfers_blocked": True,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "shorting_enabled": True,
        "daytrade_count": 0,
        "options_approved_level": 0,
        "options_trading_level": 0,
        "created_at": ns_to_rfc3339(account.created_at),
    }
