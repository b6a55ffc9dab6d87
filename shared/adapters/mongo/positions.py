"""Positions on MongoDB: one document per (account, symbol), shard key account_id.

Without transactions a position document carries what makes its changes exactly-once: the
last APPLIED_WINDOW execution ids applied to it (and the fills settled by hand), and a
`version`. A batch's fills of one position are applied in one read and one conditional
write (on the version read; a first fill inserts the document); a writer that lost a race
reads again. A redelivery older than APPLIED_WINDOW later fills of the same account and
instrument would count again (upstream, the order's per-order sequence refuses such a
stale fill first).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.adapters.mongo.query import find_list
from shared.adapters.mongo.throttle import with_retry
from shared.all_finished import all_finished
from shared.domain.positions import Position, after_fill, fill_flow, settled_early
from shared.ports.store_codec import Doc, fill_of, position_from_doc, position_to_doc
from shared.ports.store_executions import Execution

APPLIED_WINDOW = 1_000
_ATTEMPTS = 50


def _position_id(account_id: str, symbol: str) -> str:
    return f"{account_id}|{symbol}"


class _Stored:
    """A position as read: the document (None: none yet) and what it holds."""

    def __init__(self, account_id: str, symbol: str, doc: Doc | None) -> None:
        self.doc = doc
        self.position = Position(account_id, symbol) if doc is None else position_from_doc(doc)
        self.applied: list[str] = list(doc.get("applied", [])) if doc else []
        self.settled: list[str] = list(doc.get("settled", [])) if doc else []


class MongoPositionRepository:
    """The PositionRepository on MongoDB."""

    def __init__(self, collection: AsyncCollection[Doc], executions: AsyncCollection[Doc]) -> None:
        self._positions = collection
        self._executions = executions

    async def _read(self, account_id: str, symbol: str) -> _Stored:
        query = {"_id": _position_id(account_id, symbol), "account_id": account_id}
        doc = await with_retry(partial(self._positions.find_one, query))
        return _Stored(account_id, symbol, doc)

    async def _write(self, stored: _Stored, position: Position) -> bool:
        """Write the changed position if nobody else wrote it since `stored` was read."""
        position_id = _position_id(position.account_id, position.symbol)
        doc: Doc = {
            **position_to_doc(position),
            "applied": stored.applied[-APPLIED_WINDOW:],
            "settled": stored.settled[-APPLIED_WINDOW:],
        }
        if stored.doc is None:
            try:
                await with_retry(
                    partial(self._positions.insert_one, {"_id": position_id, **doc, "version": 1})
                )
            except DuplicateKeyError:
                return False  # a racing first fill made it
            return True
        version = stored.doc.get("version")
        query: Doc = {"_id": position_id, "account_id": position.account_id}
        query["version"] = version if version is not None else {"$exists": False}
        update = {"$set": {**doc, "version": (version or 0) + 1}}
        result = await with_retry(partial(self._positions.update_one, query, update))
        return bool(result.matched_count)

    async def apply_fill(self, execution: Execution) -> bool:
        return (await self.apply_fills([execution]))[0]

    async def apply_fills(self, executions: Sequence[Execution]) -> list[bool]:
        applied = [False] * len(executions)
        groups: dict[tuple[str, str], list[int]] = {}
        for n, execution in enumerate(executions):
            groups.setdefault((execution.account_id, execution.symbol), []).append(n)

        async def apply(key: tuple[str, str], indexes: list[int]) -> None:
            for _ in range(_ATTEMPTS):
                stored = await self._read(*key)
                seen = set(stored.applied)
                fresh = [n for n in indexes if executions[n].execution_id not in seen]
                if not fresh:
                    return
                position = stored.position
                for n in fresh:
                    position = after_fill(position, fill_of(executions[n]))
                    stored.applied.append(executions[n].execution_id)
                if await self._write(stored, position):
                    for n in fresh:
                        applied[n] = True
                    return
            raise RuntimeError(f"position {key}: the write kept losing races")

        await all_finished([apply(key, indexes) for key, indexes in groups.items()])
        return applied

    async def settle(self, execution: Execution, at: int) -> bool:
        fill = fill_of(execution)
        flow = fill_flow(fill.is_buy, fill.quantity, fill.price)
        settled_now = False
        for _ in range(_ATTEMPTS):
            stored = await self._read(execution.account_id, execution.symbol)
            if execution.execution_id in stored.settled:
                break
            stored.settled.append(execution.execution_id)
            position = settled_early(stored.position, fill.settle_day, flow, fill.fee)
            if await self._write(stored, position):
                settled_now = True
                break
        else:
            raise RuntimeError(f"position of {execution.execution_id}: the write kept losing")
        # Then the execution's own mark (again after a crash between the two: idempotent).
        query = {
            "_id": execution.execution_id,
            "account_id": execution.account_id,
            "settled_at": {"$in": [0, None]},
        }
        await with_retry(partial(self._executions.update_one, query, {"$set": {"settled_at": at}}))
        return settled_now

    async def get(self, account_id: str, symbol: str) -> Position | None:
        stored = await self._read(account_id, symbol)
        return None if stored.doc is None else stored.position

    async def list_positions(self, account_id: str) -> list[Position]:
        query = {"account_id": account_id}
        docs = await with_retry(partial(find_list, self._positions, query, [("symbol", 1)], 0))
        return [position_from_doc(doc) for doc in docs]
