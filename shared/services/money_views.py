"""The JSON shapes of an account's money and of positions with their P&L: every amount a
decimal string in the account's currency (never a float)."""

from __future__ import annotations

from decimal import Decimal

from shared.ports.store_cash import CashEntry, cash_money
from shared.services.balances import AccountMoney, ValuedPosition
from shared.services.views import View, average_price, ns_to_rfc3339, position_view


def money_str(amount: Decimal) -> str:
    """An exact decimal string: `1234.5`, `-0.01`, `0`."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def valued_position_view(row: ValuedPosition) -> View:
    """A position with its cost, mark and P&L (see the README's P&L convention)."""
    p, instrument, mark, money = row.position, row.instrument, row.mark, row.money
    view = position_view(p, instrument)
    view.update(
        {
            "average_entry_price": average_price(instrument, abs(p.cost), abs(p.net_quantity)),
            "cost_basis": money_str(money.cost_basis),
            "mark_price": None if mark.price is None else instrument.price_str(mark.price),
            "mark_source": mark.source,
            "market_value": money_str(money.market_value),
            "unrealized_pnl": money_str(money.unrealized_pnl),
            "realized_pnl": money_str(money.realized_pnl),
            "net_pnl": money_str(money.realized_pnl - money.fees),
            "pnl_today": money_str(money.pnl_today),
            "unsettled_cash": money_str(money.unsettled_cash),
        }
    )
    return view


def account_money_view(money: AccountMoney) -> View:
    return {
        "account_id": money.account_id,
        "currency": money.currency,
        "cash": money_str(money.cash),
        "settled_cash": money_str(money.settled_cash),
        "unsettled_cash": money_str(money.unsettled_cash),
        "long_market_value": money_str(money.long_market_value),
        "short_market_value": money_str(money.short_market_value),
        "equity": money_str(money.equity),
        "open_order_notional": money_str(money.open_order_notional),
        "buying_power": money_str(money.buying_power),
        "realized_pnl": money_str(money.realized_pnl),
        "unrealized_pnl": money_str(money.unrealized_pnl),
        "fees": money_str(money.fees),
        "net_pnl": money_str(money.realized_pnl - money.fees),
        "pnl_today": money_str(money.pnl_today),
        "starting_cash": money_str(money.starting_cash),
        "net_deposits": money_str(money.ledger),
        "as_of": ns_to_rfc3339(money.as_of),
    }


def cash_entry_view(entry: CashEntry) -> View:
    return {
        "entry_id": entry.entry_id,
        "seq": entry.seq,
        "kind": entry.kind,
        "amount": money_str(cash_money(entry.amount)),
        "balance": money_str(cash_money(entry.balance)),
        "at": ns_to_rfc3339(entry.at),
        "actor": entry.actor,
        "note": entry.note,
    }
