"""The position repository port: per account and instrument, moved only by fills."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.ports.store_executions import Execution


@dataclass(frozen=True, slots=True)
class Position:
    """Net and gross traded quantity (lots), notional (ticks x lots) and fees (engine fee
    units) of one account in one instrument. `updated_at` is the last fill's time (ns)."""

    account_id: str
    symbol: str
    net_quantity: int = 0
    bought_quantity: int = 0
    sold_quantity: int = 0
    bought_notional: int = 0
    sold_notional: int = 0
    fees: int = 0
    updated_at: int = 0


class PositionRepository(Protocol):
    """Positions unique on (account_id, symbol)."""

    async def apply_fill(self, execution: Execution) -> bool:
        """Add the fill to its position; True if applied now, False if this execution id
        was applied before (a redelivered fill never counts twice)."""
        ...

    async def apply_fills(self, executions: Sequence[Execution]) -> list[bool]:
        """`apply_fill` each execution, in one write where the store can; which were
        applied now."""
        ...

    async def get(self, account_id: str, symbol: str) -> Position | None:
        """The position, or None before the first fill."""
        ...

    async def list_positions(self, account_id: str) -> list[Position]:
        """The account's positions, by symbol."""
        ...
