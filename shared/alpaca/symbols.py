"""Alpaca's names for this OMS's instruments.

An instrument named `BASE-QUOTE` (letters and digits, a quote currency of 3 to 5 letters,
as the local run's `BTC-USD`) is a crypto pair: Alpaca names it `BTC/USD` in orders, assets
and market data, `BTCUSD` in positions, and its asset class is `crypto`. Every other
instrument is a US equity under its own symbol (`us_equity`). Requests may name a crypto pair
in any of the three spellings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.domain.instrument import Instrument
from shared.services.deps import Deps

US_EQUITY = "us_equity"
CRYPTO = "crypto"
_PAIR = re.compile(r"^([A-Z0-9]+)-([A-Z]{3,5})$")


@dataclass(frozen=True, slots=True)
class AlpacaName:
    """How Alpaca names one instrument."""

    symbol: str  # orders, assets, market data: AAPL, BTC/USD
    position_symbol: str  # positions: AAPL, BTCUSD
    asset_class: str  # us_equity or crypto


def alpaca_name(symbol: str) -> AlpacaName:
    """Alpaca's names of the instrument this OMS calls `symbol`."""
    pair = _PAIR.match(symbol)
    if pair is None:
        return AlpacaName(symbol, symbol, US_EQUITY)
    base, quote = pair.groups()
    return AlpacaName(f"{base}/{quote}", f"{base}{quote}", CRYPTO)


def is_crypto(instrument: Instrument) -> bool:
    return alpaca_name(instrument.symbol).asset_class == CRYPTO


async def find_instrument(deps: Deps, name: str) -> Instrument | None:
    """The instrument Alpaca's `name` stands for (`BTC/USD`, `BTCUSD`, `BTC-USD`, `AAPL`),
    None when there is none."""
    name = name.strip().upper()
    if not name or name == "*":
        return None
    direct = await deps.store.instruments.get(name.replace("/", "-"))
    if direct is not None:
        return direct
    if "/" in name or "-" in name:
        return None
    for instrument in await deps.store.instruments.list_instruments():
        if alpaca_name(instrument.symbol).position_symbol == name:
            return instrument
    return None
