"""Alpaca's names for this OMS's instruments, from each instrument's asset class.

A `crypto` instrument is a pair of its base asset and its currency (the quote): Alpaca names
it `BTC/USD` in orders, assets and market data, `BTCUSD` in positions, whether this OMS
calls it `BTC-USD`, `BTC/USD`, `BTCUSD` or `BTC` (priced in USD). Every other instrument is
a US equity under its own symbol (`us_equity`). Requests may name a crypto pair in any of
these spellings.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.enums import AssetClass
from shared.domain.instrument import Instrument
from shared.services.deps import Deps

US_EQUITY = "us_equity"
CRYPTO = "crypto"


@dataclass(frozen=True, slots=True)
class AlpacaName:
    """How Alpaca names one instrument."""

    symbol: str  # orders, assets, market data: AAPL, BTC/USD
    position_symbol: str  # positions: AAPL, BTCUSD
    asset_class: str  # us_equity or crypto

    @property
    def crypto(self) -> bool:
        return self.asset_class == CRYPTO


def _pair(instrument: Instrument) -> tuple[str, str]:
    """(base, quote) of a crypto instrument: split at its separator, else its currency is
    the quote (a suffix of the symbol, or nothing when the symbol is the base alone)."""
    symbol = instrument.symbol.upper()
    for separator in ("/", "-", "_"):
        base, found, quote = symbol.partition(separator)
        if found and base and quote:
            return base, quote
    quote = instrument.currency.upper()
    if symbol.endswith(quote) and len(symbol) > len(quote):
        return symbol[: -len(quote)], quote
    return symbol, quote


def alpaca_name(instrument: Instrument) -> AlpacaName:
    """Alpaca's names of the instrument."""
    if instrument.asset_class is not AssetClass.CRYPTO:
        return AlpacaName(instrument.symbol, instrument.symbol, US_EQUITY)
    base, quote = _pair(instrument)
    return AlpacaName(f"{base}/{quote}", f"{base}{quote}", CRYPTO)


def is_crypto(instrument: Instrument) -> bool:
    return instrument.asset_class is AssetClass.CRYPTO


async def find_instrument(deps: Deps, name: str) -> Instrument | None:
    """The instrument Alpaca's `name` stands for (`BTC/USD`, `BTCUSD`, `BTC-USD`, `AAPL`),
    None when there is none."""
    name = name.strip().upper()
    if not name or name == "*":
        return None
    for symbol in dict.fromkeys((name, name.replace("/", "-"))):
        direct = await deps.store.instruments.get(symbol)
        if direct is not None:
            return direct
    for instrument in await deps.store.instruments.list_instruments():
        alpaca = alpaca_name(instrument)
        if name in (alpaca.symbol, alpaca.position_symbol):
            return instrument
    return None


class Names:
    """Alpaca's names of the instruments a session meets, each read once (`load`, then
    `of`). An instrument the store does not have is named as an equity."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._names: dict[str, AlpacaName] = {}

    async def load(self, symbol: str) -> None:
        if symbol and symbol not in self._names:
            instrument = await self._deps.store.instruments.get(symbol)
            if instrument is not None:
                self._names[symbol] = alpaca_name(instrument)

    def of(self, symbol: str) -> AlpacaName:
        return self._names.get(symbol) or AlpacaName(symbol, symbol, US_EQUITY)
