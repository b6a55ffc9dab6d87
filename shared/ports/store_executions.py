"""The execution repository port: fills, stored once each, queryable per order and account."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.domain.enums import Liquidity, Side
from shared.ports.store_paging import DEFAULT_PAGE_SIZE, Page


@dataclass(frozen=True, slots=True)
class Execution:
    """One side of one trade. Quantity in lots, price in ticks, fee in engine fee units;
    `executed_at` is the command timestamp in ns. Both sides of a trade share `trade_id`.
    `settle_day`: the day its cash settles (days since the epoch, from the instrument's
    settlement cycle when it was projected); `settled_at`: when it was settled by hand
    before that day (ns; 0: not by hand)."""

    execution_id: str
    order_id: str
    account_id: str
    symbol: str
    side: Side
    quantity: int
    price: int
    liquidity: Liquidity
    fee: int
    trade_id: str
    executed_at: int
    settle_day: int = 0
    settled_at: int = 0


class ExecutionRepository(Protocol):
    """Executions keyed by execution id (derived from instrument + sequence, so replays
    produce the same id and appending again is harmless)."""

    async def append(self, execution: Execution) -> bool:
        """Store the execution; True if it is new, False if its id was stored before."""
        ...

    async def append_all(self, executions: Sequence[Execution]) -> list[bool]:
        """`append` each execution, in one write where the store can; which were new."""
        ...

    async def get(self, account_id: str, execution_id: str) -> Execution | None:
        """The account's execution, or None."""
        ...

    async def list_by_order(self, account_id: str, order_id: str) -> list[Execution]:
        """The order's executions, oldest first."""
        ...

    async def list_by_account(
        self,
        account_id: str,
        *,
        symbol: str | None = None,
        since: int | None = None,
        until: int | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[Execution]:
        """The account's executions, newest first by (executed_at, execution_id), with
        `since <= executed_at < until`; cursor paging like the order list."""
        ...

    async def list_by_trade(self, trade_id: str) -> list[Execution]:
        """Both sides of a trade (any account's: for administrators), by execution id
        (found by the ids they derive from the trade id: `ids.trade_execution_ids`)."""
        ...

    async def list_trades(self, symbol: str, limit: int = DEFAULT_PAGE_SIZE) -> list[Execution]:
        """The instrument's latest public trades, newest first, one row per trade id (the
        maker's row when both sides are stored)."""
        ...

    async def list_trades_between(
        self,
        symbol: str,
        *,
        since: int | None = None,
        until: int | None = None,
        after: tuple[int, str] | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> list[Execution]:
        """The instrument's public trades with `since <= executed_at < until`, oldest first
        by (executed_at, execution_id), one row per trade (the maker's), at most `limit`
        (capped at MAX_PAGE_SIZE); `after` = the (executed_at, execution_id) of the last row
        of the previous call. What bars are made of (`shared.services.market_data`)."""
        ...
