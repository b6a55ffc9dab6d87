"""The order history port: every matcher event of an order (its audit trail) and the
execution-quality facts of each order (its activity), both written by the projector.

Both are idempotent: an event is keyed by (order id, instrument seq), so a redelivered batch
stores nothing twice; an order's activity is replaced only by a state at least as far along
(`order_seq`), and its times merge (the earliest acceptance and first fill, the latest
completion), so batches applied twice or redone after a conflict leave the same record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.ports.store_paging import DEFAULT_PAGE_SIZE, Page


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One matcher event of an order as stored: `event` is `Event.to_dict()` (it holds
    `kind`, `ts` and every field); `processed_at` is when the matcher ran the command that
    made it (ns, 0: unknown). `order_seq` is 0 for an answer about an order the matcher
    did not hold (a cancel of an order it never saw, say)."""

    account_id: str
    order_id: str
    symbol: str
    seq: int
    order_seq: int
    processed_at: int
    event: dict[str, object]


@dataclass(frozen=True, slots=True)
class OrderActivity:
    """What execution analytics need of one order, as of its event `order_seq`.

    Quantities in lots, prices in ticks (0: none), notional in ticks x lots, fees in engine
    fee units. Times in ns: `created_at` is the order's receipt (the API's intake time);
    `accepted_at`, `first_fill_at` and `completed_at` are when the matcher ran the command
    that accepted it, filled it first, and ended it (0: not yet, or not recorded).
    `arrival_price` is the price at acceptance (0: not known)."""

    order_id: str
    account_id: str
    symbol: str
    side: str
    order_type: str
    created_at: int
    quantity: int
    limit_price: int
    order_seq: int
    status: str
    filled_quantity: int
    filled_notional: int
    fees: int
    accepted_at: int = 0
    first_fill_at: int = 0
    completed_at: int = 0
    arrival_price: int = 0


class OrderEventRepository(Protocol):
    """Order events unique on (order_id, seq); activity unique on order_id. Both are
    scoped by account: another account's order has no history here."""

    async def record(
        self, events: Sequence[StoredEvent], activity: Sequence[OrderActivity]
    ) -> None:
        """Store the events (those stored before are skipped) and merge each activity into
        its order's record, in one write where the store can."""
        ...

    async def list_by_order(self, account_id: str, order_id: str) -> list[StoredEvent]:
        """The order's events in sequence order (which is `order_seq` order)."""
        ...

    async def get_activity(self, account_id: str, order_id: str) -> OrderActivity | None:
        """The order's activity, or None (before its first event, or another account's)."""
        ...

    async def list_activity(
        self,
        account_id: str,
        *,
        symbol: str | None = None,
        since: int | None = None,
        until: int | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[OrderActivity]:
        """The account's order activity, newest first by (created_at, order_id), with
        `since <= created_at < until`; cursor paging like the order list."""
        ...
