"""Instruments: the grid every price and quantity lives on, and the limits around it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from shared.domain.enums import AssetClass, TradingState
from shared.domain.numbers import price_to_ticks, quantity_to_lots, units_to_str
from shared.domain.sessions import TradingSession


@dataclass(frozen=True, slots=True)
class ReferenceSource:
    """Where the fill simulator takes the instrument's reference price from (the paper
    market): "walk", a seeded random walk (`seed` None: the instrument's own; Gaussian steps
    of `step_ticks` every `step_ns`), or "file", a replayed list of `points` prices. The
    points themselves are in the matcher's journal (the SetReferencePrices command)."""

    kind: str = "walk"
    seed: int | None = None
    step_ticks: int = 1
    step_ns: int = 1_000_000_000
    points: int = 0
    set_at: int = 0  # when an admin set it (0: never; the default walk)


@dataclass(frozen=True, slots=True)
class Instrument:
    """Static reference data of a tradable instrument plus its trading state.

    Quantities (`min_quantity`, `max_quantity`) are in lots and `reference_price` in ticks.
    Fees are in hundredths of a basis point (250 = 2.5 bps) so the engine stays integral.
    `venue` overrides the account's routing for live orders on this instrument.

    `version` is the optimistic-concurrency counter of the stored instrument. `state_pending`
    says the stored trading state may not have reached the matcher yet (the kill switch
    stores a state first, then sends it; the outbox sweep sends it again while it is set).

    Prices are in `currency`; a trade settles `settlement_days` business days after it
    happens (T+n; see `shared.domain.positions.settlement_day`).

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
    venue: str | None = None
    version: int = 0
    state_pending: bool = False
    asset_class: AssetClass = AssetClass.EQUITY
    settlement_days: int = 1
    currency: str = "USD"
    reference_source: ReferenceSource = ReferenceSource()
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


def default_settlement_days(asset_class: AssetClass) -> int:
    """The usual cycle: crypto settles on the trade day (T+0), equities the next business
    day (T+1)."""
    return 0 if asset_class is AssetClass.CRYPTO else 1
