"""Orders on MongoDB: one document per order, `_id` = order id, shard key account_id."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import partial
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, OperationFailure

from shared.adapters.mongo.query import NEWEST_FIRST, find_list, keyset_after
from shared.adapters.mongo.throttle import with_retry
from shared.all_finished import all_finished
from shared.domain.enums import OrderStatus, Side
from shared.domain.order import OPEN_STATUSES, PENDING_STATUSES, Order
from shared.ports.store_codec import Doc, order_from_doc, order_to_doc
from shared.ports.store_errors import (
    DuplicateClientOrderId,
    DuplicateOrderId,
    NotFound,
    VersionConflict,
)
from shared.ports.store_idempotency import IdempotencyRepository
from shared.ports.store_orders import OpenExposure
from shared.ports.store_paging import (
    DEFAULT_PAGE_SIZE,
    Page,
    clamp_limit,
    encode_cursor,
)
from shared.ports.store_risk import LedgerChange, RiskLedgerRepository

_OPEN = [status.value for status in OPEN_STATUSES]
GROUP = "group_orders"  # on a group's head: the first state of its other orders
_PRICE = {"$ifNull": ["$limit_price", "$stop_price"]}


def _summed_here(docs: list[Doc]) -> list[OpenExposure]:
    groups: dict[tuple[str, int | None], list[int]] = {}
    for doc in docs:
        price = doc["limit_price"] if doc["limit_price"] is not None else doc["stop_price"]
        group = groups.setdefault((doc["symbol"], price), [0, 0])
        group[0] += 1
        group[1] += doc["leaves_quantity"]
    return [OpenExposure(s, p, n, leaves) for (s, p), (n, leaves) in groups.items()]


class MongoOrderRepository:
    """The OrderRepository on MongoDB."""

    def __init__(
        self,
        collection: AsyncCollection[Doc],
        claims: IdempotencyRepository,
        ledgers: RiskLedgerRepository,
    ) -> None:
        self._orders = collection
        self._claims = claims
        self._ledgers = ledgers

    async def create(
        self, order: Order, claim: str | None = None, ledger: LedgerChange | None = None
    ) -> None:
        # No transactions: the ledger first (a crash after it leaves it holding too much,
        # never too little), then the claim, then the order; a refusal writes nothing.
        if ledger is not None:
            await self._ledgers.change(ledger)
        try:
            await self._create(order, claim)
        except BaseException:
            if ledger is not None and ledger.undo is not None:
                undo = LedgerChange(ledger.account_id, ledger.undo, None)
                await self._ledgers.change(undo)
            raise

    async def _create(self, order: Order, claim: str | None) -> None:
        if claim is not None:
            await self._claim(order, claim)
        await self._insert({"_id": order.order_id, **order_to_doc(order)}, order)

    async def create_group(
        self,
        orders: Sequence[Order],
        claims: Sequence[str | None],
        ledger: LedgerChange | None = None,
    ) -> None:
        # No multi-document transactions on Cosmos: the ledger first and the claims (as in
        # create), then the head with a copy of the others (one atomic write: from here on
        # the group exists as a whole, and the ledger change is its), then the others;
        # get_group completes what a crash left.
        if ledger is not None:
            await self._ledgers.change(ledger)
        head, *others = orders
        try:
            for order, claim in zip(orders, claims, strict=True):
                if claim is not None:
                    await self._claim(order, claim)
            copies = [order_to_doc(order) for order in others]
            await self._insert({"_id": head.order_id, **order_to_doc(head), GROUP: copies}, head)
        except BaseException:
            if ledger is not None and ledger.undo is not None:
                await self._ledgers.change(LedgerChange(ledger.account_id, ledger.undo, None))
            raise
        for order in others:
            await self._insert({"_id": order.order_id, **order_to_doc(order)}, order)

    async def get_group(self, account_id: str, order_ids: Sequence[str]) -> list[Order]:
        wanted = list(dict.fromkeys(order_ids))
        if not wanted:
            return []
        query = {"_id": {"$in": wanted}, "account_id": account_id}
        docs = await with_retry(partial(find_list, self._orders, query, [("_id", 1)], len(wanted)))
        found = {doc["_id"]: doc for doc in docs}
        head = found.get(wanted[0])
        for copy in head.get(GROUP, ()) if head is not None else ():
            if copy["order_id"] in wanted and copy["order_id"] not in found:
                found[copy["order_id"]] = await self._complete(copy)
        return [order_from_doc(found[order_id]) for order_id in wanted if order_id in found]

    async def _complete(self, copy: Doc) -> Doc:
        """Store an order of a group a crash left out (another reader may have just done
        it: then that one is read back)."""
        doc = {"_id": copy["order_id"], **copy}
        try:
            await with_retry(partial(self._orders.insert_one, dict(doc)))
        except DuplicateKeyError:
            stored = await with_retry(partial(self._orders.find_one, {"_id": doc["_id"]}))
            if stored is not None:
                return dict(stored)
            raise
        return doc

    async def _claim(self, order: Order, claim: str) -> None:
        # No multi-document transactions on Cosmos: the claim goes first, so a crash
        # between the two leaves a claim without its order (placing reuses its id).
        record = await self._claims.put_if_absent(
            order.account_id, claim, "", 0, order.order_id.encode(), order.created_at
        )
        holder = record.body.decode()
        if holder != order.order_id:
            raise DuplicateClientOrderId(order.account_id, order.client_order_id, holder)

    async def _insert(self, doc: Doc, order: Order) -> None:
        try:
            await with_retry(partial(self._orders.insert_one, doc))
        except DuplicateKeyError:
            existing = await self.get_by_client_order_id(order.account_id, order.client_order_id)
            if existing is not None and existing.order_id != order.order_id:
                raise DuplicateClientOrderId(
                    order.account_id, order.client_order_id, existing.order_id
                ) from None
            raise DuplicateOrderId(order.order_id) from None

    async def _find_one(self, query: Doc) -> Order | None:
        doc = await with_retry(partial(self._orders.find_one, query))
        return None if doc is None else order_from_doc(doc)

    async def get(self, account_id: str, order_id: str) -> Order | None:
        return await self._find_one({"_id": order_id, "account_id": account_id})

    async def get_any(self, order_id: str) -> Order | None:
        return await self._find_one({"_id": order_id})

    async def get_any_of(self, order_ids: Collection[str]) -> dict[str, Order]:
        wanted = list(dict.fromkeys(order_ids))
        if not wanted:
            return {}
        query = {"_id": {"$in": wanted}}
        docs = await with_retry(partial(find_list, self._orders, query, [("_id", 1)], len(wanted)))
        orders = [order_from_doc(doc) for doc in docs]
        return {order.order_id: order for order in orders}

    async def get_by_client_order_id(self, account_id: str, client_order_id: str) -> Order | None:
        return await self._find_one({"account_id": account_id, "client_order_id": client_order_id})

    async def update(
        self, order: Order, expected_version: int, ledger: LedgerChange | None = None
    ) -> None:
        if ledger is not None and ledger.takes:
            await self._ledgers.change(ledger)  # first: the order never holds more than taken
            try:
                await self._update(order, expected_version)
            except BaseException:
                if ledger.undo is not None:
                    await self._ledgers.change(LedgerChange(ledger.account_id, ledger.undo, None))
                raise
            return
        await self._update(order, expected_version)
        if ledger is not None:
            await self._ledgers.change(ledger)  # after: a crash between leaves it too full

    async def _update(self, order: Order, expected_version: int) -> None:
        new_version = expected_version + 1
        fields = order_to_doc(order)
        del fields["dispatched"]  # the outbox flag belongs to mark_dispatched
        fields["version"] = new_version
        query = {"_id": order.order_id, "account_id": order.account_id, "version": expected_version}
        try:
            result = await with_retry(partial(self._orders.update_one, query, {"$set": fields}))
        except DuplicateKeyError:
            existing = await self.get_by_client_order_id(order.account_id, order.client_order_id)
            existing_id = existing.order_id if existing else "?"
            raise DuplicateClientOrderId(
                order.account_id, order.client_order_id, existing_id
            ) from None
        if result.matched_count == 0:
            stored = await self.get(order.account_id, order.order_id)
            if stored is None:
                raise NotFound(f"order {order.order_id}")
            raise VersionConflict(order.order_id, expected_version, stored.version)
        order.version = new_version

    async def update_all(
        self,
        changes: Sequence[tuple[Order, int]],
        ledgers: Sequence[LedgerChange | None] = (),
    ) -> list[bool]:
        gives = list(ledgers) or [None] * len(changes)

        async def one(order: Order, expected: int, ledger: LedgerChange | None) -> bool:
            try:
                await self.update(order, expected, ledger)
            except (VersionConflict, NotFound, DuplicateClientOrderId):
                return False
            return True

        return await all_finished([one(o, v, g) for (o, v), g in zip(changes, gives, strict=True)])

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
        limit = clamp_limit(limit)
        query: Doc = {"account_id": account_id}
        if top_level:  # no group's leg (documents stored before groups have no parent)
            query["parent_order_id"] = {"$in": ["", None]}
        if statuses:
            query["status"] = {"$in": [OrderStatus(status).value for status in statuses]}
        if symbol is not None:
            query["symbol"] = symbol
        if side is not None:
            query["side"] = Side(side).value
        created: dict[str, Any] = {}
        if since is not None:
            created["$gte"] = since
        if until is not None:
            created["$lt"] = until
        if created:
            query["created_at"] = created
        if cursor is not None:
            query = {"$and": [query, keyset_after("created_at", cursor)]}
        docs = await with_retry(partial(find_list, self._orders, query, NEWEST_FIRST, limit + 1))
        items = [order_from_doc(doc) for doc in docs[:limit]]
        last = items[-1] if len(docs) > limit else None
        return Page(items, encode_cursor(last.created_at, last.order_id) if last else None)

    async def open_exposure(
        self, account_id: str, excluding: str | None = None
    ) -> list[OpenExposure]:
        match: Doc = {"account_id": account_id, "status": {"$in": _OPEN}}
        if excluding is not None:
            match["_id"] = {"$ne": excluding}
        pipeline: list[Doc] = [
            {"$match": match},
            {
                "$group": {
                    "_id": {"symbol": "$symbol", "price": _PRICE},
                    "open_orders": {"$sum": 1},
                    "leaves_quantity": {"$sum": "$leaves_quantity"},
                }
            },
        ]
        try:
            groups = await with_retry(partial(self._aggregate, pipeline))
        except OperationFailure:
            groups = None  # a sum past int64 is an error on some servers
        if groups is not None and all(type(g["leaves_quantity"]) is int for g in groups):
            return [
                OpenExposure(
                    g["_id"]["symbol"],
                    g["_id"].get("price"),
                    g["open_orders"],
                    g["leaves_quantity"],
                )
                for g in groups
            ]
        # A sum past int64 failed or came back as a double: add the quantities up here.
        fields = {"symbol": 1, "limit_price": 1, "stop_price": 1, "leaves_quantity": 1}
        docs = await with_retry(partial(self._find_all, match, fields))
        return _summed_here(docs)

    async def _aggregate(self, pipeline: list[Doc]) -> list[Doc]:
        cursor = await self._orders.aggregate(pipeline)
        return await cursor.to_list()

    async def _find_all(self, query: Doc, fields: Doc) -> list[Doc]:
        return await self._orders.find(query, fields).to_list()

    async def open_symbols(self) -> list[str]:
        query = {"status": {"$in": _OPEN}}
        symbols = await with_retry(partial(self._orders.distinct, "symbol", query))
        return [str(symbol) for symbol in symbols]

    async def mark_dispatched(self, order_id: str, account_id: str | None = None) -> None:
        if account_id is None:
            order = await self.get_any(order_id)
            if order is None:
                return
            account_id = order.account_id
        query = {"_id": order_id, "account_id": account_id}
        await with_retry(partial(self._orders.update_one, query, {"$set": {"dispatched": True}}))

    async def mark_all_dispatched(self, keys: Sequence[tuple[str, str]]) -> None:
        marks = [
            UpdateOne({"_id": order_id, "account_id": account_id}, {"$set": {"dispatched": True}})
            for order_id, account_id in keys
        ]
        if marks:
            await with_retry(partial(self._orders.bulk_write, marks, ordered=False))

    async def list_undispatched(
        self, older_than_ns: int, limit: int = DEFAULT_PAGE_SIZE
    ) -> list[Order]:
        query = {"dispatched": False, "created_at": {"$lte": older_than_ns}}
        sort = [("created_at", 1)]
        docs = await with_retry(partial(find_list, self._orders, query, sort, clamp_limit(limit)))
        return [order_from_doc(doc) for doc in docs]

    async def list_pending(
        self,
        older_than_ns: int,
        limit: int = DEFAULT_PAGE_SIZE,
        after: tuple[int, str] | None = None,
    ) -> list[Order]:
        query: Doc = {
            "status": {"$in": [status.value for status in PENDING_STATUSES]},
            "updated_at": {"$lte": older_than_ns},
        }
        if after is not None:
            ts, key = after
            later = {"$or": [{"updated_at": {"$gt": ts}}, {"updated_at": ts, "_id": {"$gt": key}}]}
            query = {"$and": [query, later]}
        sort = [("updated_at", 1), ("_id", 1)]
        docs = await with_retry(partial(find_list, self._orders, query, sort, clamp_limit(limit)))
        return [order_from_doc(doc) for doc in docs]
