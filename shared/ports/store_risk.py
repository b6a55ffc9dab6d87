"""The risk-ledger port: what each account has taken of its limits, changed atomically.

One ledger per account holds the counters the pre-trade limits are checked against (open
orders, in all and per instrument, the buying power held by them, orders today, the
order-rate bucket). A placement changes
it in the same step as the order is stored, by a rule it is handed (`LedgerChange`): the
rule reads the ledger as stored at that instant and returns the new one, or raises to
refuse (then nothing is written, neither the ledger nor the order). So no two concurrent
placements can both take the last of a limit, in one process or across many.

The rules live in the service layer (shared.services.limits); adapters only make the read,
the rule and the write one atomic step: inside the order's own write transaction on
SQLite, a conditional write on the ledger's `version` (retried from a fresh read) on
MongoDB, where the ledger and the order are two writes: a change that takes (`takes`) is
written before the order, and undone if the order's write fails; one that gives back is
written after it. A crash between the two leaves the ledger holding too much, never too
little (`shared.services.limits.rebuild` recounts it from the orders).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RiskLedger:
    """An account's use of its limits. Money is Decimal (quote currency), never float.

    `open_orders` counts the account's open orders and `open_symbols` them per instrument
    (symbols without any left out); `open_notional` is the buying power they hold (each
    order's `reserved`, added up); `day_orders` counts the orders placed on UTC day `day`
    (yyyymmdd); `rate_tokens` is the order-rate bucket as of `rate_at` (ns). `version` is
    the optimistic-concurrency counter: every write adds one."""

    account_id: str
    open_orders: int = 0
    open_notional: Decimal = Decimal(0)
    day: str = ""
    day_orders: int = 0
    rate_tokens: float = 0.0
    rate_at: int = 0
    version: int = 0
    open_symbols: Mapping[str, int] = field(default_factory=dict)


Rule = Callable[[RiskLedger], RiskLedger]


@dataclass(frozen=True, slots=True)
class LedgerChange:
    """A change of one account's ledger.

    `rule(stored ledger) -> new ledger` may raise to refuse. `fresh` is the ledger to
    start from when none is stored yet (None: then there is nothing to change). `takes`:
    the change takes (it must be written before what it is for, and `undo` gives it back
    if that write fails); else it gives back (written after)."""

    account_id: str
    rule: Rule
    fresh: RiskLedger | None
    takes: bool = False
    undo: Rule | None = None


class RiskLedgerRepository(Protocol):
    """Ledgers keyed by account id."""

    async def get(self, account_id: str) -> RiskLedger | None:
        """The stored ledger, or None."""
        ...

    async def change(self, change: LedgerChange) -> RiskLedger | None:
        """Apply the change atomically; returns the ledger as stored after it (None: none
        is stored and the change has no `fresh` one). Whatever `change.rule` raises is
        raised, and nothing is written."""
        ...

    async def put(self, ledger: RiskLedger, expected_version: int | None) -> RiskLedger:
        """Store `ledger` if the stored version is `expected_version` (None: only if none is
        stored); returns it as stored (version + 1). VersionConflict otherwise."""
        ...
