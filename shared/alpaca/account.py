"""Alpaca's account object for an OMS account.

Until the money model (issue 15) lands there are no deposits and no cash ledger: `cash` is the
net cash of the account's fills (what sells brought in, less what buys cost, less fees),
positions are valued as in `shared.alpaca.positions`, `equity` = cash + market value, and
`buying_power` is what the account's credit limit leaves (`shared.services.risk`), which is
what the pre-trade check enforces. Margin, day-trading and options figures are 0: the OMS has
none of them.
"""

from __future__ import annotations

from decimal import Decimal

from shared.alpaca.ids import account_uuid
from shared.alpaca.positions import market_value, text
from shared.domain.enums import TradingState
from shared.domain.instrument import Instrument
from shared.ports.store_accounts import Account
from shared.services import market_data, risk
from shared.services.deps import Deps
from shared.services.views import ns_to_rfc3339

_ZERO = "0"


def fill_cash(instrument: Instrument, sold: int, bought: int, fees: int) -> Decimal:
    """The cash of a position's fills: sold less bought notional (ticks x lots), less fees."""
    value = Decimal(sold - bought) * instrument.tick_size * instrument.lot_size
    return value - Decimal(fees) * instrument.tick_size * instrument.lot_size / 1_000_000


async def alpaca_account(deps: Deps, account: Account) -> dict[str, object]:
    cash = long_value = short_value = Decimal(0)
    for position in await deps.store.positions.list_positions(account.account_id):
        instrument = await deps.store.instruments.get(position.symbol)
        if instrument is None:
            continue
        cash += fill_cash(
            instrument, position.sold_notional, position.bought_notional, position.fees
        )
        if position.net_quantity == 0:
            continue
        mark = await market_data.mark_price(deps, instrument)
        value = market_value(instrument, position, mark) or Decimal(0)
        if value > 0:
            long_value += value
        else:
            short_value += value
    buying_power = text(await risk.credit_left(deps, account))
    equity = text(cash + long_value + short_value)
    blocked = account.trading_state is TradingState.HALTED
    return {
        "id": account_uuid(account.account_id),
        "account_number": account.account_id,
        "status": "ACTIVE",
        "crypto_status": "ACTIVE",
        "currency": "USD",
        "buying_power": buying_power,
        "regt_buying_power": buying_power,
        "daytrading_buying_power": _ZERO,
        "non_marginable_buying_power": buying_power,
        "options_buying_power": _ZERO,
        "cash": text(cash),
        "accrued_fees": _ZERO,
        "pending_transfer_in": _ZERO,
        "pending_transfer_out": _ZERO,
        "portfolio_value": equity,
        "equity": equity,
        "last_equity": equity,
        "long_market_value": text(long_value),
        "short_market_value": text(short_value),
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
