"""Alpaca's position object for an account's position in an instrument.

Until the money model (issue 15) gives positions their cost basis, the entry price is the
average price of the side the position is on (buys for a long, sells for a short), and
positions are valued at the last public trade (else the instrument's reference price).
"""

from __future__ import annotations

from decimal import Decimal

from shared.alpaca.ids import asset_uuid
from shared.alpaca.symbols import CRYPTO, alpaca_name
from shared.domain.instrument import Instrument
from shared.ports.store_positions import Position

_PLPC = Decimal("0.0000000001")


def text(value: Decimal) -> str:
    """A decimal as Alpaca writes it: plain notation, no exponent, no trailing zeros."""
    return "0" if value == 0 else format(value.normalize(), "f")


def entry_price(instrument: Instrument, position: Position) -> Decimal:
    """The average price of the side the position is on (0 for a flat one)."""
    if position.net_quantity > 0 and position.bought_quantity:
        notional, lots = position.bought_notional, position.bought_quantity
    elif position.net_quantity < 0 and position.sold_quantity:
        notional, lots = position.sold_notional, position.sold_quantity
    else:
        return Decimal(0)
    exponent = instrument.tick_size.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    step = Decimal(1).scaleb(exponent - 6)
    return (Decimal(notional) / Decimal(lots) * instrument.tick_size).quantize(step)


def quantity(instrument: Instrument, position: Position) -> Decimal:
    return Decimal(position.net_quantity) * instrument.lot_size


def market_value(instrument: Instrument, position: Position, mark: int | None) -> Decimal | None:
    if mark is None:
        return None
    return quantity(instrument, position) * Decimal(mark) * instrument.tick_size


def alpaca_position(
    instrument: Instrument, position: Position, mark: int | None
) -> dict[str, object]:
    """The open position (`net_quantity` not 0), valued at `mark` (ticks; None: unknown)."""
    name = alpaca_name(instrument.symbol)
    qty = quantity(instrument, position)
    entry = entry_price(instrument, position)
    cost = qty * entry
    value = market_value(instrument, position, mark)
    pl = None if value is None else value - cost
    plpc = None if pl is None or cost == 0 else (pl / abs(cost)).quantize(_PLPC)
    return {
        "asset_id": asset_uuid(instrument.symbol),
        "symbol": name.position_symbol,
        "exchange": "CRYPTO" if name.asset_class == CRYPTO else "",
        "asset_class": name.asset_class,
        "asset_marginable": False,
        "qty": text(qty),
        "qty_available": text(qty),
        "avg_entry_price": text(entry),
        "side": "long" if position.net_quantity > 0 else "short",
        "market_value": None if value is None else text(value),
        "cost_basis": text(cost),
        "unrealized_pl": None if pl is None else text(pl),
        "unrealized_plpc": None if plpc is None else text(plpc),
        "unrealized_intraday_pl": None,
        "unrealized_intraday_plpc": None,
        "current_price": None if mark is None else instrument.price_str(mark),
        "lastday_price": None,
        "change_today": None,
    }
