"""Alpaca's asset object for an instrument: its class, and its grid as Alpaca states it
(`min_order_size`, `min_trade_increment` = the lot size, `price_increment` = the tick size)."""

from __future__ import annotations

from shared.alpaca.ids import asset_uuid
from shared.alpaca.symbols import CRYPTO, alpaca_name
from shared.domain.enums import TradingState
from shared.domain.instrument import Instrument
from shared.domain.numbers import units_to_str


def alpaca_asset(instrument: Instrument) -> dict[str, object]:
    name = alpaca_name(instrument)
    return {
        "id": asset_uuid(instrument.symbol),
        "class": name.asset_class,
        # Alpaca's crypto assets trade on "CRYPTO"; an equity here trades on this OMS's own
        # venue, which is none of the exchanges Alpaca lists: "" (Alpaca's empty exchange).
        "exchange": "CRYPTO" if name.asset_class == CRYPTO else "",
        "symbol": name.symbol,
        "name": name.symbol,
        "status": "active",
        "tradable": instrument.trading_state is not TradingState.HALTED,
        "marginable": False,
        "shortable": True,
        "easy_to_borrow": True,
        "fractionable": instrument.lot_size < 1,
        "min_order_size": instrument.quantity_str(instrument.min_quantity),
        "min_trade_increment": units_to_str(1, instrument.lot_size),
        "price_increment": units_to_str(1, instrument.tick_size),
        "maintenance_margin_requirement": None,
        "attributes": [],
    }
