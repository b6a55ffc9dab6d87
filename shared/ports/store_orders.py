"""The order repository port: order documents with optimistic concurrency and an outbox flag."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.domain.enums import OrderStatus, Side
from shared.domain.order import Order
from shared.ports.store_paging import DEFAULT_PAGE_SIZE, Page
from shared.ports.store_risk import LedgerChange


@dataclass(frozen=True, slots=True)
class OpenExposure:
    """The open orders of one account on one symbol at one price: how many there are and
    their leaves quantity (lots) added up. `price` (ticks) is the limit price, else the stop
    price; None for orders with neither, which are valued at the reference price."""

    symbol: str
    price: int | None
    open_orders: int
    leaves_qty: int


class OrderRepository(Protocol):
    """Orders, one document each, keyed by order id and scoped by account.

    `version` is the optimistic-concurrency counter: `create` stores the order as given
    (normally version 0) and every successful `update` adds one.
    """

    async def create(
        self, order: Order, claim: str | None = None, ledger: LedgerChange | None = None
    ) -> None:
        """Store a new order. Raises DuplicateClientOrderId (carrying the existing order's
        id) when the account already used the client order id, DuplicateOrderId when the
        order id exists.

        `ledger`: the order's share of its account's limits, taken in the same atomic step
        (see shared.ports.store_risk): whatever its rule raises is raised and nothing is
        stored; if the order cannot be stored, nothing is taken.

        `claim`: also record this idempotency key (under the order's account, its body the
        order id) as held by the order, in the same transaction where the store has them
        (SQLite); else the claim is written first. When the key is held by another order
        id, DuplicateClientOrderId names that id and nothing is stored."""
        ...

    async def create_group(
        self,
        orders: Sequence[Order],
        claims: Sequence[str | None],
        ledger: LedgerChange | None = None,
    ) -> None:
        """Store a contingent group (its head first) and each order's claim (`claims[i]`
        for `orders[i]`, as `create` takes one), with the group's ledger change (as
        `create` applies one), as a whole: in one transaction where the store has them
        (SQLite), and raising DuplicateClientOrderId / DuplicateOrderId as `create` does,
        or what the ledger's rule raises, with nothing stored.

        Without transactions (MongoDB) the claims go first, then the head, carrying a copy
        of the other orders, then the others: a crash in between leaves a group that
        `get_group` completes from the head's copy, and nothing of a group without its head.
        """
        ...

    async def get_group(self, account_id: str, order_ids: Sequence[str]) -> list[Order]:
        """The account's orders among `order_ids` (a group's possible members, its head
        first), in that order; the orders of an incompletely stored group are completed
        first from its head (see `create_group`)."""
        ...

    async def get(self, account_id: str, order_id: str) -> Order | None:
        """The account's order, or None (another account's order is simply not found)."""
        ...

    async def get_any(self, order_id: str) -> Order | None:
        """Any account's order by id, for internal projectors (not for the public API)."""
        ...

    async def get_any_of(self, order_ids: Collection[str]) -> dict[str, Order]:
        """`get_any` of each id, in one store call: the orders found, by order id."""
        ...

    async def get_by_client_order_id(self, account_id: str, client_order_id: str) -> Order | None:
        """The account's order currently carrying this client order id, or None."""
        ...

    async def update(
        self, order: Order, expected_version: int, ledger: LedgerChange | None = None
    ) -> None:
        """Write `order` if the stored version is still `expected_version`; the stored and
        the given order then have version `expected_version + 1`. `ledger`: a change of the
        account's risk ledger made with the write (taken before it, given back after it;
        see shared.ports.store_risk), and not at all when the write does not happen.

        Raises VersionConflict when another writer got there first (re-read and retry) and
        NotFound when the order does not exist. Never changes the outbox flag
        (`dispatched`): that belongs to `mark_dispatched`.
        """
        ...

    async def update_all(
        self,
        changes: Sequence[tuple[Order, int]],
        ledgers: Sequence[LedgerChange | None] = (),
    ) -> list[bool]:
        """`update` of each (order, expected version), in one store call; not one
        transaction: each write stands on its own, with its `ledgers` change if it has one
        (same order as `changes`: what the order gives back, made with its write). For
        each, True when written (the order's version is then the expected one + 1), False
        when not: another writer got there first, the order is missing, or its client order
        id clashes (`update` of a fresh read tells which). Other failures raise, as
        `update`'s do."""
        ...

    async def list_orders(
        self,
        account_id: str,
        *,
        statuses: Collection[OrderStatus] = (),
        symbol: str | None = None,
        side: Side | None = None,
        since: int | None = None,
        until: int | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        top_level: bool = False,
    ) -> Page[Order]:
        """The account's orders, newest first by (created_at, order_id).

        Filters: any of `statuses` (empty = all), `symbol`, `side`, and
        `since <= created_at < until` (ns); `top_level`: no group's legs (simple orders
        and the groups' heads only). `limit` is capped at MAX_PAGE_SIZE. Pass the
        returned `next_cursor` to get the next page; raises InvalidCursor for a bad one.
        """
        ...

    async def open_exposure(
        self, account_id: str, excluding: str | None = None
    ) -> list[OpenExposure]:
        """The account's open orders (`shared.domain.order.OPEN_STATUSES`), grouped by
        (symbol, price), in no particular order; `excluding` leaves one order out (the one
        being replaced). Exact: the sums are integers, whatever their size. Costs one
        aggregate query, not a read of every order."""
        ...

    async def open_symbols(self) -> list[str]:
        """The symbols on which any account has an order in an OPEN_STATUSES status, in no
        particular order: where a market-wide kill switch has something to cancel."""
        ...

    async def mark_dispatched(self, order_id: str, account_id: str | None = None) -> None:
        """Clear the outbox marker: the order's command reached the matcher's queue.

        Does not change `version`. Giving `account_id` saves a cross-partition lookup.
        """
        ...

    async def mark_all_dispatched(self, keys: Sequence[tuple[str, str]]) -> None:
        """`mark_dispatched` of every (order id, account id), in one store call."""
        ...

    async def list_undispatched(
        self, older_than_ns: int, limit: int = DEFAULT_PAGE_SIZE
    ) -> list[Order]:
        """Orders still marked undispatched and created at or before `older_than_ns`,
        oldest first (at most `limit`, capped at MAX_PAGE_SIZE): the outbox sweeper resends
        their commands (the matcher skips command ids it has journaled)."""
        ...

    async def list_pending(
        self,
        older_than_ns: int,
        limit: int = DEFAULT_PAGE_SIZE,
        after: tuple[int, str] | None = None,
    ) -> list[Order]:
        """Orders of every account waiting for the matcher
        (`shared.domain.order.PENDING_STATUSES`) whose `updated_at` is at or before
        `older_than_ns`, oldest first by (updated_at, order_id), at most `limit`
        (capped at MAX_PAGE_SIZE); `after` = the (updated_at, order_id) of the last order of
        the previous page. The sweep resends their pending command (NewOrder for
        pending_new) with the same command id."""
        ...
