"""Alpaca's position object for an account's position in an instrument: the position's
money as `GET /api/positions` shows it (`shared.services.balances`: average cost, the
account's mark, market value, unrealized P&L, the day's change). The intraday P&L is the
position's P&L today (its fills today, fees included, and the change of its mark since the
UTC day began), as a fraction of what the position was worth without it. Figures at a mark
are null while the instrument has no mark.
"""

from __future__ import annotations

from decimal import Decimal

from shared.alpaca.ids import asset_uuid
from shared.alpaca.symbols import CRYPTO, alpaca_name
from shared.domain.instrument import Instrument
from shared.ports.store_positions import Position
from shared.services.balances import ValuedPosition
from shared.services.views import average_price

_PLPC = Decimal("0.0000000001")


def text(value: Decimal) -> str:
    """A decimal as Alpaca writes it: plain notation, no exponent, no trailing zeros."""
    return "0" if value == 0 else format(value.normalize(), "f")


def quantity(instrument: Instrument, position: Position) -> Decimal:
    return Decimal(position.net_quantity) * instrument.lot_size


def alpaca_position(row: ValuedPosition, held_lots: int = 0) -> dict[str, object]:
    """The open position (`net_quantity` not 0) with its money at its mark; `held_lots`: what
    the account's open orders on the closing side may still trade (live and held parts), so
    `qty_available` is what no order holds yet."""
    instrument, position, mark, money = row.instrument, row.position, row.mark, row.money
    name = alpaca_name(instrument)
    qty = quantity(instrument, position)
    free = max(0, abs(position.net_quantity) - held_lots)
    available = Decimal(free if position.net_quantity > 0 else -free) * instrument.lot_size
    entry = average_price(instrument, abs(position.cost), abs(position.net_quantity)) or "0"
    cost = money.cost_basis
    value = None if mark.price is None else money.market_value
    pl = None if value is None else money.unrealized_pnl
    plpc = None if pl is None or cost == 0 else (pl / abs(cost)).quantize(_PLPC)
    intraday = intraday_pc = None
    if value is not None:
        intraday = money.pnl_today
        before = abs(value - intraday)
        intraday_pc = (intraday / before).quantize(_PLPC) if before else None
    start = mark.start_price
    today = None
    if value is not None and start and mark.price is not None:
        today = (Decimal(mark.price - start) / Decimal(start)).quantize(_PLPC)
    return {
        "asset_id": asset_uuid(instrument.symbol),
        "symbol": name.position_symbol,
        "exchange": "CRYPTO" if name.asset_class == CRYPTO else "",
        "asset_class": name.asset_class,
        "asset_marginable": False,
        "qty": text(qty),
        "qty_available": text(available),
        "avg_entry_price": entry,
        "side": "long" if position.net_quantity > 0 else "short",
        "market_value": None if value is None else text(value),
        "cost_basis": text(cost),
        "unrealized_pl": None if pl is None else text(pl),
        "unrealized_plpc": None if plpc is None else text(plpc),
        "unrealized_intraday_pl": None if intraday is None else text(intraday),
        "unrealized_intraday_plpc": None if intraday_pc is None else text(intraday_pc),
        "current_price": None if mark.price is None else instrument.price_str(mark.price),
        "lastday_price": None if not start else instrument.price_str(start),
        "change_today": None if today is None else text(today),
    }
