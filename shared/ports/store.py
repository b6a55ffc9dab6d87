"""The store: every repository of one database, plus readiness and shutdown.

Build one with `shared.adapters.factory.store_from_settings` (or the adapters'
`open_sqlite_store`, `open_mongo_store`); the ports live in the `store_*` modules next to this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.ports.store_accounts import AccountRepository
from shared.ports.store_audit import AuditRepository
from shared.ports.store_cash import CashLedgerRepository
from shared.ports.store_executions import ExecutionRepository
from shared.ports.store_feeds import FeedStreamRepository
from shared.ports.store_idempotency import IdempotencyRepository
from shared.ports.store_instruments import InstrumentRepository
from shared.ports.store_journal import JournalRepository
from shared.ports.store_orders import OrderRepository
from shared.ports.store_positions import PositionRepository
from shared.ports.store_risk import RiskLedgerRepository
from shared.ports.store_venues import VenueRepository


class StoreConnection(Protocol):
    """The database connection behind the repositories."""

    async def ping(self) -> None:
        """Return if the database answers; raise StoreUnavailable otherwise."""
        ...

    async def close(self) -> None:
        """Release the connection; the repositories are unusable afterwards."""
        ...


@dataclass(frozen=True, slots=True)
class Store:
    """The repositories of one database."""

    orders: OrderRepository
    executions: ExecutionRepository
    journal: JournalRepository
    accounts: AccountRepository
    positions: PositionRepository
    instruments: InstrumentRepository
    idempotency: IdempotencyRepository
    venues: VenueRepository
    feeds: FeedStreamRepository
    risk: RiskLedgerRepository
    cash: CashLedgerRepository
    audit: AuditRepository
    connection: StoreConnection

    async def ping(self) -> None:
        """Readiness: raises StoreUnavailable when the database does not answer."""
        await self.connection.ping()

    async def close(self) -> None:
        """Close the database connection."""
        await self.connection.close()
