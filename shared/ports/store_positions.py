"""The position repository port: per account and instrument, moved only by fills (and by a
fill's cash settled by hand before its day)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shared.domain.positions import Position
from shared.ports.store_executions import Execution

__all__ = ["Position", "PositionRepository"]


class PositionRepository(Protocol):
    """Positions unique on (account_id, symbol). Each fill moves its position through
    `shared.domain.positions.after_fill`, in the order given (the instrument's sequence)."""

    async def apply_fill(self, execution: Execution) -> bool:
        """Add the fill to its position; True if applied now, False if this execution id
        was applied before (a redelivered fill never counts twice)."""
        ...

    async def apply_fills(self, executions: Sequence[Execution]) -> list[bool]:
        """`apply_fill` each execution in order, in one write where the store can; which
        were applied now."""
        ...

    async def settle(self, execution: Execution, at: int) -> bool:
        """Settle the fill's cash now (`at`, ns), before its settlement day: it leaves its
        position's unsettled cash and the execution is marked settled. True if settled now,
        False if it was settled by hand before. The fill must have been applied."""
        ...

    async def get(self, account_id: str, symbol: str) -> Position | None:
        """The position, or None before the first fill."""
        ...

    async def list_positions(self, account_id: str) -> list[Position]:
        """The account's positions, by symbol."""
        ...
