"""Orders on SQLite: queryable columns plus the whole order as a JSON document."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Sequence
from typing import Any, NoReturn

import orjson

from shared.adapters.sqlite.database import SqliteDatabase
from shared.adapters.sqlite.idempotency import claim_key
from shared.adapters.sqlite.paging import add_time_window
from shared.adapters.sqlite.risk import apply_change, apply_changes
from shared.adapters.sqlite.schema import OPEN_ORDERS, PENDING_ORDERS
from shared.domain.enums import OrderStatus, Side
from shared.domain.order import Order
from shared.ports.store_codec import order_from_doc, order_to_doc
from shared.ports.store_errors import (
    DuplicateClientOrderId,
    DuplicateOrderId,
    NotFound,
    VersionConflict,
)
from shared.ports.store_orders import OpenExposure
from shared.ports.store_paging import (
    DEFAULT_PAGE_SIZE,
    Page,
    clamp_limit,
    encode_cursor,
)
from shared.ports.store_risk import LedgerChange

# OR FAIL: a one-row statement checks its constraints before it changes anything, so FAIL
# backs out the same nothing ABORT would, without the statement journal SQLite keeps for
# ABORT once a trigger runs (the exposure's, database.py), which costs as much as the
# trigger itself. The triggers' statements run under FAIL too and cannot break a constraint;
# an I/O error or a full disk rolls the whole transaction back (SqliteDatabase._lost).
_INSERT = (
    "INSERT OR FAIL INTO orders (order_id, account_id, client_order_id, symbol, side, status,"
    " created_at, version, dispatched, doc, updated_at, order_price, leaves_quantity)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE = (
    "UPDATE OR FAIL orders SET client_order_id = ?, status = ?, version = ?, doc = ?,"
    " updated_at = ?, order_price = ?, leaves_quantity = ?"
    " WHERE order_id = ? AND account_id = ? AND version = ?"
)
_MARK_DISPATCHED = "UPDATE orders SET dispatched = 1 WHERE order_id = ? AND dispatched = 0"
_MAX_IDS = 500  # per IN list (SQLite allows 32,766 parameters)
_EXPOSURE = (
    "SELECT symbol, CASE WHEN priced THEN price END, open_orders, leaves_quantity"
    " FROM order_exposure WHERE account_id = ?"
)
_OPEN_ORDER = (
    "SELECT symbol, order_price, leaves_quantity FROM orders"
    f" WHERE order_id = ? AND account_id = ? AND {OPEN_ORDERS}"
)
_OPEN_ORDERS_OF = (
    "SELECT symbol, order_price, leaves_quantity FROM orders"
    f" WHERE account_id = ? AND {OPEN_ORDERS}"
)
_COLUMNS = "version, dispatched, doc"
# No group's leg (documents stored before groups have no parent_order_id).
_TOP_LEVEL = "COALESCE(json_extract(CAST(doc AS TEXT), '$.parent_order_id'), '') = ''"


class _NotWritten(Exception):
    """The order's version moved: roll its write back, the ledger change with it."""


def _order(row: tuple[Any, ...]) -> Order:
    doc = orjson.loads(row[2])
    doc["version"] = row[0]
    doc["dispatched"] = bool(row[1])
    return order_from_doc(doc)


def _order_price(order: Order) -> int | None:
    return order.limit_price if order.limit_price is not None else order.stop_price


def _raise_duplicate(conn: sqlite3.Connection, order: Order) -> NoReturn:
    """Inside the write, at once after the failed statement (the row in the way may be a
    write of the open group, not committed yet): which key the order collided on."""
    row = conn.execute(
        "SELECT order_id FROM orders WHERE account_id = ? AND client_order_id = ?",
        (order.account_id, order.client_order_id),
    ).fetchone()
    if row is not None and row[0] != order.order_id:
        raise DuplicateClientOrderId(order.account_id, order.client_order_id, row[0])
    raise DuplicateOrderId(order.order_id)


class SqliteOrderRepository:
    """The OrderRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def create(
        self, order: Order, claim: str | None = None, ledger: LedgerChange | None = None
    ) -> None:
        insert = _inserter(order, claim)

        def write(conn: sqlite3.Connection) -> None:
            if ledger is not None:
                apply_change(conn, ledger)  # refuses (raises) before anything is written
            insert(conn)

        # A claim or a ledger change: all or nothing (a savepoint).
        await self._db.write(write, one_change=claim is None and ledger is None)

    async def create_group(
        self,
        orders: Sequence[Order],
        claims: Sequence[str | None],
        ledger: LedgerChange | None = None,
    ) -> None:
        inserts = [_inserter(order, claim) for order, claim in zip(orders, claims, strict=True)]

        def insert_all(conn: sqlite3.Connection) -> None:
            if ledger is not None:
                apply_change(conn, ledger)  # refuses (raises) before anything is written
            for insert in inserts:
                insert(conn)

        await self._db.write(insert_all)  # one savepoint: the whole group or nothing

    async def get_group(self, account_id: str, order_ids: Sequence[str]) -> list[Order]:
        wanted = list(dict.fromkeys(order_ids))
        if not wanted:
            return []
        rows = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM orders WHERE account_id = ?"
            f" AND order_id IN ({', '.join('?' * len(wanted))})",
            (account_id, *wanted),
        ).fetchall()
        found = {order.order_id: order for order in map(_order, rows)}
        return [found[order_id] for order_id in wanted if order_id in found]

    async def get(self, account_id: str, order_id: str) -> Order | None:
        row = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM orders WHERE order_id = ? AND account_id = ?",
            (order_id, account_id),
        ).fetchone()
        return None if row is None else _order(row)

    async def get_any(self, order_id: str) -> Order | None:
        row = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        return None if row is None else _order(row)

    async def get_any_of(self, order_ids: Collection[str]) -> dict[str, Order]:
        wanted = list(dict.fromkeys(order_ids))
        found: dict[str, Order] = {}
        for start in range(0, len(wanted), _MAX_IDS):
            chunk = wanted[start : start + _MAX_IDS]
            rows = self._db.reader.execute(
                f"SELECT {_COLUMNS} FROM orders WHERE order_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            for row in rows:
                order = _order(row)
                found[order.order_id] = order
        return found

    async def get_by_client_order_id(self, account_id: str, client_order_id: str) -> Order | None:
        row = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM orders WHERE account_id = ? AND client_order_id = ?",
            (account_id, client_order_id),
        ).fetchone()
        return None if row is None else _order(row)

    async def update(
        self, order: Order, expected_version: int, ledger: LedgerChange | None = None
    ) -> None:
        params = _update_params(order, expected_version)

        def change(conn: sqlite3.Connection) -> int:
            if ledger is not None and ledger.takes:
                apply_change(conn, ledger)  # refuses (raises) before anything is written
            try:
                written: int = conn.execute(_UPDATE, params).rowcount
            except sqlite3.IntegrityError:
                _raise_duplicate(conn, order)
            if written == 0 and ledger is not None and ledger.takes:
                raise _NotWritten  # give the ledger change back with the savepoint
            if written and ledger is not None and not ledger.takes:
                apply_change(conn, ledger)
            return written

        try:
            written = await self._db.write(change, one_change=ledger is None)
        except _NotWritten:
            # Raised at once, while the write in the way may be in the open group, not
            # committed yet (the reader cannot see it): answer once that group commits, or
            # the caller's retry reads the same stale version again, and again, never
            # letting the group commit.
            await self._db.write(lambda conn: None, one_change=True)
            written = 0
        if written == 0:
            row = self._db.reader.execute(
                "SELECT version FROM orders WHERE order_id = ? AND account_id = ?",
                (order.order_id, order.account_id),
            ).fetchone()
            if row is None:
                raise NotFound(f"order {order.order_id}")
            raise VersionConflict(order.order_id, expected_version, row[0])
        order.version = expected_version + 1

    async def update_all(
        self,
        changes: Sequence[tuple[Order, int]],
        ledgers: Sequence[LedgerChange | None] = (),
    ) -> list[bool]:
        rows = [_update_params(order, expected) for order, expected in changes]
        gives = list(ledgers) or [None] * len(rows)

        def change_all(conn: sqlite3.Connection) -> list[bool]:
            written: list[bool] = []
            given: list[LedgerChange] = []
            for params, ledger in zip(rows, gives, strict=True):
                try:
                    ok = conn.execute(_UPDATE, params).rowcount == 1
                except sqlite3.IntegrityError:  # a client order id clash: update() names it
                    ok = False
                if ok and ledger is not None:
                    given.append(ledger)
                written.append(ok)
            apply_changes(conn, given)  # what the written ones give back, in the transaction
            return written

        written = await self._db.write(change_all) if rows else []
        for (order, expected), ok in zip(changes, written, strict=True):
            if ok:
                order.version = expected + 1
        return written

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
        where: list[str] = ["account_id = ?"]
        args: list[object] = [account_id]
        if top_level:
            where.append(_TOP_LEVEL)
        if statuses:
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            args.extend(OrderStatus(status).value for status in statuses)
        if symbol is not None:
            where.append("symbol = ?")
            args.append(symbol)
        if side is not None:
            where.append("side = ?")
            args.append(Side(side).value)
        add_time_window(where, args, "created_at", "order_id", since, until, cursor)
        rows = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM orders WHERE {' AND '.join(where)}"
            " ORDER BY created_at DESC, order_id DESC LIMIT ?",
            (*args, limit + 1),
        ).fetchall()
        items = [_order(row) for row in rows[:limit]]
        more = len(rows) > limit
        last = items[-1] if more else None
        return Page(items, encode_cursor(last.created_at, last.order_id) if last else None)

    async def open_exposure(
        self, account_id: str, excluding: str | None = None
    ) -> list[OpenExposure]:
        conn = self._db.reader
        groups: dict[tuple[str, int | None], list[int]] = {
            (row[0], row[1]): [row[2], row[3]] for row in conn.execute(_EXPOSURE, (account_id,))
        }
        if any(type(leaves) is float for _, leaves in groups.values()):
            # A sum past int64 (a REAL, see database.py): add the account's orders up here.
            groups = {}
            for symbol, price, leaves in conn.execute(_OPEN_ORDERS_OF, (account_id,)):
                group = groups.setdefault((symbol, price), [0, 0])
                group[0] += 1
                group[1] += leaves
        if excluding is not None:
            row = conn.execute(_OPEN_ORDER, (excluding, account_id)).fetchone()
            if row is not None and (row[0], row[1]) in groups:
                group = groups[row[0], row[1]]
                group[0] -= 1
                group[1] -= row[2]
        return [OpenExposure(s, p, n, leaves) for (s, p), (n, leaves) in groups.items() if n]

    async def open_symbols(self) -> list[str]:
        rows = self._db.reader.execute("SELECT DISTINCT symbol FROM order_exposure").fetchall()
        return [row[0] for row in rows]

    async def mark_dispatched(self, order_id: str, account_id: str | None = None) -> None:
        await self._db.write_one(_MARK_DISPATCHED, (order_id,))

    async def mark_all_dispatched(self, keys: Sequence[tuple[str, str]]) -> None:
        rows = [(order_id,) for order_id, _ in keys]
        if rows:
            await self._db.write(lambda conn: conn.executemany(_MARK_DISPATCHED, rows))

    async def list_undispatched(
        self, older_than_ns: int, limit: int = DEFAULT_PAGE_SIZE
    ) -> list[Order]:
        rows = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM orders WHERE dispatched = 0 AND created_at <= ?"
            " ORDER BY created_at LIMIT ?",
            (older_than_ns, clamp_limit(limit)),
        ).fetchall()
        return [_order(row) for row in rows]

    async def list_pending(
        self,
        older_than_ns: int,
        limit: int = DEFAULT_PAGE_SIZE,
        after: tuple[int, str] | None = None,
    ) -> list[Order]:
        where, args = f"{PENDING_ORDERS} AND updated_at <= ?", [older_than_ns]
        args_after: tuple[object, ...] = ()
        if after is not None:
            where += " AND (updated_at, order_id) > (?, ?)"
            args_after = after
        rows = self._db.reader.execute(
            f"SELECT {_COLUMNS} FROM orders WHERE {where} ORDER BY updated_at, order_id LIMIT ?",
            (*args, *args_after, clamp_limit(limit)),
        ).fetchall()
        return [_order(row) for row in rows]


def _inserter(order: Order, claim: str | None) -> Callable[[sqlite3.Connection], None]:
    """The statements storing `order` (and its claim of `claim`, if any) inside a write."""
    doc = order_to_doc(order)
    row = (
        order.order_id,
        order.account_id,
        order.client_order_id,
        order.symbol,
        doc["side"],
        doc["status"],
        order.created_at,
        order.version,
        int(order.dispatched),
        orjson.dumps(doc),
        order.updated_at,
        _order_price(order),
        order.leaves_qty,
    )
    ours = order.order_id.encode()

    def insert(conn: sqlite3.Connection) -> None:
        if claim is not None:
            holder = claim_key(conn, order.account_id, claim, ours, order.created_at)
            if holder != ours:
                raise DuplicateClientOrderId(
                    order.account_id, order.client_order_id, holder.decode()
                )
        try:
            conn.execute(_INSERT, row)
        except sqlite3.IntegrityError:
            _raise_duplicate(conn, order)

    return insert


def _update_params(order: Order, expected_version: int) -> tuple[object, ...]:
    """The parameters of _UPDATE: `order` written as version `expected_version + 1`."""
    doc = order_to_doc(order)
    new_version = expected_version + 1
    doc["version"] = new_version
    return (
        order.client_order_id,
        doc["status"],
        new_version,
        orjson.dumps(doc),
        order.updated_at,
        _order_price(order),
        order.leaves_qty,
        order.order_id,
        order.account_id,
        expected_version,
    )
