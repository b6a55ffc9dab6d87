"""Risk ledgers on MongoDB: one document per account (`_id` = account_id = shard key),
changed by a conditional write on its `version`, retried from a fresh read when another
writer got there first (no multi-document transactions on Cosmos DB)."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from functools import partial

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo.throttle import with_retry
from shared.ports.store_codec import Doc, risk_ledger_from_doc, risk_ledger_to_doc
from shared.ports.store_errors import StoreUnavailable, VersionConflict
from shared.ports.store_risk import LedgerChange, RiskLedger

ATTEMPTS = 1_000  # each lost race means another writer's change went in


class MongoRiskLedgerRepository:
    """The RiskLedgerRepository on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self._ledgers = collection

    async def get(self, account_id: str) -> RiskLedger | None:
        query = {"_id": account_id, "account_id": account_id}
        doc = await with_retry(partial(self._ledgers.find_one, query))
        return None if doc is None else risk_ledger_from_doc(doc)

    async def _write(self, ledger: RiskLedger, expected: int | None) -> RiskLedger | None:
        """The ledger as stored, or None when the stored version was not `expected`."""
        stored = dataclasses.replace(ledger, version=1 if expected is None else expected + 1)
        doc = {"_id": ledger.account_id, **risk_ledger_to_doc(stored)}
        if expected is None:
            try:
                await with_retry(partial(self._ledgers.insert_one, doc))
            except DuplicateKeyError:
                return None
            return stored
        query = {"_id": ledger.account_id, "account_id": ledger.account_id, "version": expected}
        result = await with_retry(partial(self._ledgers.replace_one, query, doc))
        return stored if result.matched_count == 1 else None

    async def change(self, change: LedgerChange) -> RiskLedger | None:
        for attempt in range(ATTEMPTS):
            stored = await self.get(change.account_id)
            current = stored if stored is not None else change.fresh
            if current is None:
                return None
            written = await self._write(
                change.rule(current), None if stored is None else stored.version
            )
            if written is not None:
                return written
            # Lost the race: back off a little (more after each loss), then read again.
            await asyncio.sleep(random.random() * min(0.001 * (attempt + 1), 0.05))
        raise StoreUnavailable(f"the risk ledger of {change.account_id} kept changing")

    async def put(self, ledger: RiskLedger, expected_version: int | None) -> RiskLedger:
        written = await self._write(ledger, expected_version)
        if written is None:
            current = await self.get(ledger.account_id)
            raise VersionConflict(
                ledger.account_id,
                -1 if expected_version is None else expected_version,
                -1 if current is None else current.version,
            )
        return written
