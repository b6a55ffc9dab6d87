"""The cash ledger port: what moved an account's cash besides its fills (deposits,
withdrawals, paper resets), one entry each, numbered per account.

Amounts are integers in cash units, 10^-8 of the account's currency (CASH_UNITS per unit).
`balance` is the sum of the account's entries up to and including this one, so the
latest entry answers "how much" in one read; each entry claims the next number, so two
writers that raced for it cannot both land (the loser reads again and retries).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from shared.ports.store_errors import StoreError
from shared.ports.store_paging import DEFAULT_PAGE_SIZE, Page

CASH_UNITS = 100_000_000
"""Cash units per unit of currency: amounts carry at most 8 decimals."""


def cash_money(units: int) -> Decimal:
    return Decimal(units) / CASH_UNITS


class LedgerConflict(StoreError):
    """Another entry took the number this one claimed: read the ledger again."""


@dataclass(frozen=True, slots=True)
class CashEntry:
    """One ledger entry. `entry_id` is the caller's key (unique per account, so a retried
    request finds its entry); `seq` numbers the account's entries from 1; `amount` and
    `balance` are cash units (signed: a withdrawal is negative); `at` is when (ns) and
    `actor` who."""

    account_id: str
    entry_id: str
    seq: int
    kind: str
    amount: int
    balance: int
    at: int
    actor: str
    note: str = ""


class CashLedgerRepository(Protocol):
    """Entries unique on (account_id, entry_id) and on (account_id, seq)."""

    async def append(self, entry: CashEntry) -> CashEntry:
        """Store the entry as the account's entry number `entry.seq`; returns what is
        stored under its entry id (the entry, or the one a retry stored first, which the
        caller compares). Raises LedgerConflict when another entry holds that number."""
        ...

    async def last(self, account_id: str) -> CashEntry | None:
        """The account's latest entry (its balance is the ledger's), or None."""
        ...

    async def get(self, account_id: str, entry_id: str) -> CashEntry | None:
        """The entry stored under this id, or None."""
        ...

    async def list_entries(
        self, account_id: str, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[CashEntry]:
        """The account's entries, newest first; cursor paging like the order list."""
        ...
