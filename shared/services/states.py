"""Trading states (the kill switch) of the three scopes: everything, an account, an instrument.

The global state lives in the instruments store as the reserved row `*` (no real symbol can
be `*`), so it needs no store of its own; listings leave it out.
"""

from __future__ import annotations

from decimal import Decimal

from shared.domain.enums import TradingState
from shared.domain.instrument import Instrument
from shared.ports.store import Store

GLOBAL_SYMBOL = "*"


async def global_state(store: Store) -> TradingState:
    row = await store.instruments.get(GLOBAL_SYMBOL)
    return TradingState.ACTIVE if row is None else row.trading_state


async def set_global_state(store: Store, state: TradingState) -> None:
    row = Instrument(GLOBAL_SYMBOL, Decimal(1), Decimal(1), trading_state=state)
    await store.instruments.upsert(row)
