"""Instruments: the grid every price and quantity lives on, and the limits around it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from shared.domain.enums import TradingState
from shared.domain.numbers import price_to_ticks, quantity_to_lots, units_to_str
from shared.domain.sessions import TradingSession


@dataclass(frozen=True, slots=True)
class Instrument:
    """Static reference data of a tradable instrument plus its trading state.

    Quantities (`min_quantity`, `max_quantity`) are in lots and `reference_price` in ticks.
    Fees are in hundredths of a basis point (250 = 2.5 bps) so the engine stays integral.
    `session`: when it trades (shared.domain.sessions); None trades around the clock.
    """

    symbol: str
    tick_size: Decimal
    lot_size: Decimal
    min_quantity: int = 1
    max_quantity: int = 1_000_000
    price_collar_bps: int = 1_000
    maker_fee_cbps: int = 0
    taker_fee_cbps: int = 0
    reference_price: int | None = None
    trading_state: TradingState = TradingState.ACTIVE
    session: TradingSession | None = None

    def ticks(self, field: str, value: str | int | Decimal) -> int:
        return price_to_ticks(field, value, self.tick_size)

    def lots(self, field: str, value: str | int | Decimal) -> int:
        return quantity_to_lots(field, value, self.lot_size)

    def price_str(self, ticks: int) -> str:
        return units_to_str(ticks, self.tick_size)

    def quantity_str(self, lots: int) -> str:
        return units_to_str(lots, self.lot_size)

    def with_state(self, state: TradingState) -> Instrument:
        return replace(self, trading_state=state)

    def with_reference_price(self, ticks: int) -> Instrument:
        return replace(self, reference_price=ticks)
