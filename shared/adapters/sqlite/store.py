"""Builds the Store on SQLite."""

from __future__ import annotations

from pathlib import Path

from shared.adapters.sqlite.accounts import SqliteAccountRepository
from shared.adapters.sqlite.audit import SqliteAuditRepository
from shared.adapters.sqlite.cash import SqliteCashLedgerRepository
from shared.adapters.sqlite.database import SqliteDatabase
from shared.adapters.sqlite.executions import SqliteExecutionRepository
from shared.adapters.sqlite.feeds import SqliteFeedStreamRepository
from shared.adapters.sqlite.idempotency import SqliteIdempotencyRepository
from shared.adapters.sqlite.instruments import SqliteInstrumentRepository
from shared.adapters.sqlite.journal import SqliteJournalRepository
from shared.adapters.sqlite.orders import SqliteOrderRepository
from shared.adapters.sqlite.positions import SqlitePositionRepository
from shared.adapters.sqlite.risk import SqliteRiskLedgerRepository
from shared.adapters.sqlite.venues import SqliteVenueRepository
from shared.ports.store import Store


async def open_sqlite_store(path: str | Path, synchronous: str = "NORMAL") -> Store:
    """Open (creating if needed) the SQLite database at `path`, or ":memory:"."""
    db = SqliteDatabase(path, synchronous)
    return Store(
        orders=SqliteOrderRepository(db),
        executions=SqliteExecutionRepository(db),
        journal=SqliteJournalRepository(db),
        accounts=SqliteAccountRepository(db),
        positions=SqlitePositionRepository(db),
        instruments=SqliteInstrumentRepository(db),
        idempotency=SqliteIdempotencyRepository(db),
        venues=SqliteVenueRepository(db),
        feeds=SqliteFeedStreamRepository(db),
        risk=SqliteRiskLedgerRepository(db),
        cash=SqliteCashLedgerRepository(db),
        audit=SqliteAuditRepository(db),
        connection=db,
    )
