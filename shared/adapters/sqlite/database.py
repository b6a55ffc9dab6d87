"""The SQLite connections, the schema and the transactions.

Writes: statements run on the event loop thread, on the writer connection. Each repository
call is one short statement or a few on indexed keys (tens of microseconds); a hop to a
worker thread would cost more than the statement itself, and running them all on one
thread makes that thread the single writer, so a read-check-write inside one call can never
interleave with another coroutine. WAL lets readers in other processes proceed, and
`busy_timeout` makes a second writing process wait its turn instead of failing.

Group commit: a commit is the expensive part (the WAL writes of every page the group
changed, now and then an fsync), so writes issued in the same turn of the event loop share
one transaction. `write()` runs the caller's statements at once inside a savepoint of the
open group transaction (a failure rolls back that caller's statements only), and returns
only after the group commits: nothing is acknowledged before it is durable. A lone writer
pays one commit per call, as with autocommit; a hundred concurrent API requests pay one
commit between them.

The COMMIT itself runs on a thread of its own (a file database), so the event loop serves
requests while SQLite writes the WAL: the writer connection belongs to that thread until
the commit returns. Writes arriving meanwhile queue their statements; the moment the
connection is back they run, as the next group, and its commit starts at once (under load
the groups grow by themselves, and a queued writer waits for no extra turn of the loop).
"The moment" is whichever comes first: the thread's callback on the loop, or the next
write finding the commit done (under load the callback waits behind a turn's worth of
requests; a write comes along within a fraction of a millisecond).
Reads never wait for a commit: they run on a second connection (`reader`), which sees
committed data only, so nothing a reader returns can still be rolled back. Reads that
must see the open group's own writes run inside a `write()` on the connection it passes.
An in-memory database has one connection, so it commits on the loop and reads on the
writer.

Checkpoints (copying committed pages from the WAL back into the database file, with an
fsync of each) run on a thread of their own (`_Checkpointer`); the event loop only copies
what that thread has left when the WAL reaches its bound.

Durability: WAL with `synchronous=NORMAL` survives a killed process (every committed
transaction is in the WAL); an operating-system crash or power cut may lose the last
transactions before a checkpoint. Pass `synchronous="FULL"` to trade speed for that.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from shared.domain.enums import OrderStatus
from shared.ports.store_errors import StoreUnavailable
from shared.ports.store_orders import OPEN_STATUSES, PENDING_STATUSES

T = TypeVar("T")

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    dispatched INTEGER NOT NULL,
    doc BLOB NOT NULL,
    updated_at INTEGER NOT NULL DEFAULT 0,
    order_price INTEGER,
    leaves_quantity INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS orders_client_order_id ON orders (account_id, client_order_id);
CREATE INDEX IF NOT EXISTS orders_by_time ON orders (account_id, created_at DESC, order_id DESC);
CREATE INDEX IF NOT EXISTS orders_undispatched ON orders (created_at) WHERE dispatched = 0;

CREATE TABLE IF NOT EXISTS executions (
    execution_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    price INTEGER NOT NULL,
    liquidity TEXT NOT NULL,
    fee INTEGER NOT NULL,
    trade_id TEXT NOT NULL,
    executed_at INTEGER NOT NULL,
    settle_day INTEGER NOT NULL DEFAULT 0,
    settled_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS executions_by_order ON executions (account_id, order_id, executed_at);
CREATE INDEX IF NOT EXISTS executions_by_account
    ON executions (account_id, executed_at DESC, execution_id DESC);
CREATE INDEX IF NOT EXISTS executions_by_symbol
    ON executions (symbol, executed_at DESC, execution_id DESC);

-- A rowid table: an entry (about 1 KB) fits in its page. A WITHOUT ROWID table keeps at most
-- about 1 KB of a row in the page and spills the rest to an overflow page of its own, a
-- whole page written per entry. (A database made with the older layout keeps it; it works.)
CREATE TABLE IF NOT EXISTS journal (
    symbol TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    command_id TEXT NOT NULL,
    command BLOB NOT NULL,
    events BLOB NOT NULL,
    processed_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (symbol, first_seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS journal_command ON journal (symbol, command_id);
CREATE INDEX IF NOT EXISTS journal_last_seq ON journal (symbol, last_seq);

CREATE TABLE IF NOT EXISTS journal_marks (
    symbol TEXT PRIMARY KEY,
    published_seq INTEGER NOT NULL,
    projected_seq INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    api_key_hash TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    doc BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS positions (
    account_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    net_quantity INTEGER NOT NULL,
    bought_quantity INTEGER NOT NULL,
    sold_quantity INTEGER NOT NULL,
    bought_notional INTEGER NOT NULL,
    sold_notional INTEGER NOT NULL,
    fees INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    cost INTEGER NOT NULL DEFAULT 0,
    realized INTEGER NOT NULL DEFAULT 0,
    day INTEGER NOT NULL DEFAULT 0,
    day_start_quantity INTEGER NOT NULL DEFAULT 0,
    day_flow INTEGER NOT NULL DEFAULT 0,
    day_fees INTEGER NOT NULL DEFAULT 0,
    unsettled TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (account_id, symbol)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS position_fills (
    execution_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    settled_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS instruments (
    symbol TEXT PRIMARY KEY,
    doc BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS cash_ledger (
    account_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    entry_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount INTEGER NOT NULL,
    balance INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (account_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS cash_ledger_entry ON cash_ledger (account_id, entry_id);

CREATE TABLE IF NOT EXISTS audit_log (
    audit_id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_by_time ON audit_log (at DESC, audit_id DESC);
CREATE INDEX IF NOT EXISTS audit_log_by_target ON audit_log (target_id, at DESC, audit_id DESC);

CREATE TABLE IF NOT EXISTS idempotency (
    account_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
"""

# Columns added after the first release: (table, column, definition, backfill or None).
# A database made by an older version gets them at open; the new-column indexes follow.
MIGRATIONS = (
    (
        "orders",
        "updated_at",
        "INTEGER NOT NULL DEFAULT 0",
        "UPDATE orders SET updated_at = created_at",
    ),
    ("journal_marks", "projected_seq", "INTEGER NOT NULL DEFAULT 0", None),
    ("journal", "processed_at", "INTEGER NOT NULL DEFAULT 0", None),
    ("executions", "settle_day", "INTEGER NOT NULL DEFAULT 0", None),
    ("executions", "settled_at", "INTEGER NOT NULL DEFAULT 0", None),
    ("position_fills", "settled_at", "INTEGER NOT NULL DEFAULT 0", None),
    # Positions of an older version: their cost basis is taken at the average price of the
    # side they hold (what the fills alone cannot tell after the fact), and realized P&L
    # follows from it (realized = sold - bought notional + cost).
    (
        "positions",
        "cost",
        "INTEGER NOT NULL DEFAULT 0",
        "UPDATE positions SET cost = CASE"
        " WHEN net_quantity > 0 AND bought_quantity > 0"
        " THEN net_quantity * bought_notional / bought_quantity"
        " WHEN net_quantity < 0 AND sold_quantity > 0"
        " THEN net_quantity * sold_notional / sold_quantity ELSE 0 END",
    ),
    (
        "positions",
        "realized",
        "INTEGER NOT NULL DEFAULT 0",
        "UPDATE positions SET realized = sold_notional - bought_notional + cost",
    ),
    ("positions", "day", "INTEGER NOT NULL DEFAULT 0", None),
    ("positions", "day_start_quantity", "INTEGER NOT NULL DEFAULT 0", None),
    ("positions", "day_flow", "INTEGER NOT NULL DEFAULT 0", None),
    ("positions", "day_fees", "INTEGER NOT NULL DEFAULT 0", None),
    ("positions", "unsettled", "TEXT NOT NULL DEFAULT '[]'", None),
    (
        "orders",
        "order_price",
        "INTEGER",
        "UPDATE orders SET order_price = COALESCE("
        "json_extract(CAST(doc AS TEXT), '$.limit_price'),"
        " json_extract(CAST(doc AS TEXT), '$.stop_price'))",
    ),
    (
        "orders",
        "leaves_quantity",
        "INTEGER NOT NULL DEFAULT 0",
        "UPDATE orders SET leaves_quantity = json_extract(CAST(doc AS TEXT), '$.leaves_quantity')",
    ),
)


def status_in(statuses: Sequence[OrderStatus], row: str = "") -> str:
    """`status` is one of `statuses`, spelled out as ORed equalities: SQLite evaluates an IN
    list of more than two values by building a temporary table, every time a statement
    runs, which in a partial index's WHERE or a trigger's WHEN means on every order write;
    the ORs are a few comparisons. A query uses a partial index only if it spells the
    index's condition the same way."""
    return "(" + " OR ".join(f"{row}status = '{status.value}'" for status in statuses) + ")"


def _is_open(row: str) -> str:
    return status_in(OPEN_STATUSES, row)


OPEN_ORDERS = _is_open("")
PENDING_ORDERS = status_in(PENDING_STATUSES)

# The pending-command outbox: only orders waiting for the matcher are in it (orders_pending
# was the same index with an IN list). orders_open, the covering index an earlier version
# served the risk check from, is replaced by the order_exposure table below (it cost a
# random-key index write per order).
LATE_SCHEMA = f"""
DROP INDEX IF EXISTS orders_pending;
CREATE INDEX IF NOT EXISTS orders_pending_updated ON orders (updated_at) WHERE {PENDING_ORDERS};
DROP INDEX IF EXISTS orders_open;
"""

# The open orders' exposure, kept up to date by triggers inside the statement of every
# order write, so it can never disagree with the orders: one row per (account, symbol,
# price) with how many open orders there are and their leaves quantity added up. The risk
# check reads an account's few rows instead of adding up its open orders on every order.
# `priced` is 0 (and `price` 0) for an order with neither a limit nor a stop price: a key
# column cannot be NULL. `leaves_quantity` has no type, so no affinity: an addition past
# int64 turns it into a REAL (SQLite's overflow), which stays a REAL until the row goes
# away with its last open order, and the reader then adds up the orders itself.
# A group's row is made by an INSERT that does nothing if it exists and then counted by an
# UPDATE: an upsert (DO UPDATE) costs SQLite several times as much.
_GROUP = "account_id, symbol, priced, price"


def _key(row: str) -> str:
    return (
        f"account_id = {row}.account_id AND symbol = {row}.symbol"
        f" AND priced = ({row}.order_price IS NOT NULL)"
        f" AND price = COALESCE({row}.order_price, 0)"
    )


_JOIN_NEW = f"""
    INSERT INTO order_exposure ({_GROUP}, open_orders, leaves_quantity)
        VALUES (NEW.account_id, NEW.symbol, NEW.order_price IS NOT NULL,
                COALESCE(NEW.order_price, 0), 0, 0)
        ON CONFLICT DO NOTHING;
    UPDATE order_exposure SET open_orders = open_orders + 1,
        leaves_quantity = leaves_quantity + NEW.leaves_quantity
        WHERE {_key("NEW")};"""
_LEAVE_OLD = f"""
    UPDATE order_exposure SET open_orders = open_orders - 1,
        leaves_quantity = leaves_quantity - OLD.leaves_quantity
        WHERE {_key("OLD")};
    DELETE FROM order_exposure WHERE {_key("OLD")} AND open_orders = 0;"""
_SAME_GROUP = (
    "NEW.account_id = OLD.account_id AND NEW.symbol = OLD.symbol"
    " AND NEW.order_price IS OLD.order_price"
)
_EXPOSURE_COLUMNS = "account_id, symbol, status, order_price, leaves_quantity"
EXPOSURE_SCHEMA = f"""
CREATE TABLE order_exposure (
    account_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    priced INTEGER NOT NULL,
    price INTEGER NOT NULL,
    open_orders INTEGER NOT NULL,
    leaves_quantity NOT NULL,
    PRIMARY KEY ({_GROUP})
) WITHOUT ROWID;
CREATE TRIGGER order_exposure_insert AFTER INSERT ON orders WHEN {_is_open("NEW.")}
BEGIN{_JOIN_NEW}
END;
CREATE TRIGGER order_exposure_delete AFTER DELETE ON orders WHEN {_is_open("OLD.")}
BEGIN{_LEAVE_OLD}
END;
CREATE TRIGGER order_exposure_update AFTER UPDATE OF {_EXPOSURE_COLUMNS} ON orders
WHEN {_is_open("OLD.")} AND {_is_open("NEW.")} AND {_SAME_GROUP}
    AND NEW.leaves_quantity != OLD.leaves_quantity
BEGIN
    UPDATE order_exposure
        SET leaves_quantity = leaves_quantity + (NEW.leaves_quantity - OLD.leaves_quantity)
        WHERE {_key("OLD")};
END;
CREATE TRIGGER order_exposure_update_leave AFTER UPDATE OF {_EXPOSURE_COLUMNS} ON orders
WHEN {_is_open("OLD.")} AND NOT ({_is_open("NEW.")} AND {_SAME_GROUP})
BEGIN{_LEAVE_OLD}
END;
CREATE TRIGGER order_exposure_update_join AFTER UPDATE OF {_EXPOSURE_COLUMNS} ON orders
WHEN {_is_open("NEW.")} AND NOT ({_is_open("OLD.")} AND {_SAME_GROUP})
BEGIN{_JOIN_NEW}
END;
"""
# A database of an earlier version: its open orders make the first rows.
_BUILD_EXPOSURE = f"""
INSERT INTO order_exposure ({_GROUP}, open_orders, leaves_quantity)
    SELECT account_id, symbol, order_price IS NOT NULL, COALESCE(order_price, 0), 1,
        leaves_quantity
    FROM orders WHERE {OPEN_ORDERS}
    ON CONFLICT DO UPDATE SET open_orders = open_orders + 1,
        leaves_quantity = leaves_quantity + excluded.leaves_quantity;
"""


def migrate(conn: sqlite3.Connection) -> None:
    """Add the columns an older database lacks, then the indexes on them, then the
    exposure table and its triggers (filled from the orders, in the same transaction)."""
    for table, column, definition, backfill in MIGRATIONS:
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in columns:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
            if backfill is not None:
                conn.execute(backfill)
    conn.executescript(LATE_SCHEMA)
    conn.execute("BEGIN IMMEDIATE")
    try:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'order_exposure'"
        ).fetchone()
        if exists is None:
            for statement in _statements(EXPOSURE_SCHEMA + _BUILD_EXPOSURE):
                conn.execute(statement)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(script: str) -> list[str]:
    """The statements of `script`, one by one (executescript would commit first)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


class _Commit(asyncio.Future[None]):
    """A group's commit, awaited by every writer of the group. A writer's task that is
    cancelled cannot cancel it (cancel() declines): the task gets its CancelledError once
    the group has committed, and the commit and the other writers go on undisturbed.
    The queued writers of the group (`_Queued`) are answered along with it."""

    def __init__(self, *, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self.answers: list[tuple[_Queued[Any], Any]] = []

    def cancel(self, msg: Any | None = None) -> bool:
        return False

    def settle(self, error: BaseException | None) -> None:
        """Committed (error None) or not: tell every writer of the group."""
        if error is None:
            self.set_result(None)
        else:
            self.set_exception(error)
        for queued, result in self.answers:
            if error is None:
                queued.set_result(result)
            else:
                queued.set_exception(error)
        self.answers.clear()


class _Queued(asyncio.Future[T]):
    """A write that arrived while the connection was committing: its statements, and the
    future its writer awaits. Once the statements have run, cancel() declines, as _Commit's
    does: the writer learns its outcome once the group has committed."""

    def __init__(
        self,
        statements: Callable[[sqlite3.Connection], T],
        savepoint: bool,
        *,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(loop=loop)
        self.statements = statements
        self.savepoint = savepoint
        self._started = False

    def begin(self) -> bool:
        """Mark the statements as running; False if the writer was cancelled before."""
        if self.cancelled():
            return False
        self._started = True
        return True

    def cancel(self, msg: Any | None = None) -> bool:
        return False if self._started else super().cancel(msg)


_Outcome = BaseException | None  # a commit's error, None when it committed


class _CommitJob:
    """One COMMIT on the committer thread and what the event loop does with its outcome.

    `then` runs on the loop exactly once, whichever comes first: the thread's callback, or
    a writer that finds the job done (`deliver_if_done`) and so need not wait for the loop
    to reach that callback behind everything queued before it."""

    __slots__ = ("commit", "delivered", "done", "outcome", "then")

    def __init__(self, commit: Callable[[], _Outcome], then: Callable[[_Outcome], None]) -> None:
        self.commit = commit
        self.then = then
        self.outcome: _Outcome = None
        self.done = False  # set by the thread once the connection is free again
        self.delivered = False  # read and set on the loop only

    def deliver(self) -> None:
        if not self.delivered:
            self.delivered = True
            self.then(self.outcome)

    def deliver_if_done(self) -> None:
        if self.done:
            self.deliver()


class _Committer:
    """The thread the COMMITs run on. It hands each outcome straight to the event loop
    (`call_soon_threadsafe`, no executor future and its extra turn of the loop)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[_CommitJob, asyncio.AbstractEventLoop] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._run, name="sqlite-commit", daemon=True)
        self._thread.start()

    def submit(
        self,
        commit: Callable[[], _Outcome],
        then: Callable[[_Outcome], None],
        loop: asyncio.AbstractEventLoop,
    ) -> _CommitJob:
        """Run `commit` on the thread, then `then(its outcome)` on `loop`."""
        job = _CommitJob(commit, then)
        self._jobs.put((job, loop))
        return job

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            job, loop = item
            try:
                job.outcome = job.commit()
            except BaseException as error:  # delivered: the writers must not wait forever
                job.outcome = error
            job.done = True
            try:
                loop.call_soon_threadsafe(job.deliver)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                log.warning("a commit finished after its event loop closed: %r", job.outcome)

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join()


class _Checkpointer:
    """Copies committed pages from the WAL back into the database file on a thread and a
    connection of its own, so the event loop does not pay for it.

    Each run is a PASSIVE checkpoint: it never blocks or waits for the writer, and it syncs
    the WAL before and the database file after, as SQLite's own checkpoint does. A run
    starts when a commit has happened since the last one, at most every PAUSE seconds, so a
    page rewritten by many commits is copied once. The WAL stays bounded by SQLite's own
    automatic checkpoint on the writer's connection: once the WAL holds
    `wal_autocheckpoint` pages, the commit that finds no run in progress copies what is
    left (little, as the thread has copied the rest) and the WAL starts over from its
    beginning on the next write.
    """

    PAUSE = 0.05

    def __init__(self, path: str, synchronous: str) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout = 5000")
        self._conn.execute(f"PRAGMA synchronous = {synchronous}")
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def commit_done(self) -> None:
        if not self._wake.is_set():
            self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._closing.is_set():
                break
            self._wake.clear()
            try:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:
                log.exception("background checkpoint failed (the next one copies its pages)")
            self._closing.wait(self.PAUSE)
        self._conn.close()

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        self._thread.join()


class SqliteDatabase:
    """The writer connection (`write()`: group commit) and the reader connection (`reader`)."""

    def __init__(self, path: str | Path, synchronous: str = "NORMAL") -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be NORMAL or FULL")
        in_memory = str(path) == ":memory:"
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA busy_timeout = 5000")
        wal = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
        self.conn.execute(f"PRAGMA synchronous = {synchronous}")
        # Random-key indexes (uuid order ids) thrash the default 2 MB page cache.
        self.conn.execute("PRAGMA cache_size = -65536")
        # The bound on the WAL; the checkpointer thread does most of the copying before.
        self.conn.execute("PRAGMA wal_autocheckpoint = 10000")
        self.conn.executescript(SCHEMA)
        migrate(self.conn)
        self.reader = self.conn if in_memory else _open_reader(str(path))
        self._committer = None if in_memory else _Committer()
        self._group: _Commit | None = None
        self._busy: _Commit | None = None  # the commit in flight on the committer thread
        self._job: _CommitJob | None = None  # and its job there
        self._queue: list[_Queued[Any]] = []  # writes that arrived during that commit
        self._checkpointer = _Checkpointer(str(path), synchronous) if wal else None

    async def write(
        self, statements: Callable[[sqlite3.Connection], T], *, one_change: bool = False
    ) -> T:
        """Run `statements` in the open group transaction; return their result once the
        group is committed. If they raise, only their own changes are rolled back.
        `one_change`: they change the database with one statement at most (atomic by
        itself), so they need no savepoint."""
        return await self._write(statements, not one_change)

    async def write_one(self, sql: str, params: Sequence[object]) -> sqlite3.Cursor:
        """`write` of one statement (atomic by itself, so it needs no savepoint)."""
        return await self._write(lambda conn: conn.execute(sql, params), False)

    async def _write(self, statements: Callable[[sqlite3.Connection], T], savepoint: bool) -> T:
        if self._busy is None:
            group = self._group or self._open_group()
            result = self._apply(group, statements, savepoint)
            await group
            return result
        # The connection is committing on its thread: the statements wait in line and run
        # the moment it is back, in the next group (see _run_queued), and the writer is
        # answered once that group has committed.
        queued = _Queued(statements, savepoint, loop=asyncio.get_running_loop())
        self._queue.append(queued)
        # Committed already, its answer still on its way through the loop's queue: take
        # it now, so this write and those before it start the next commit at once.
        assert self._job is not None
        self._job.deliver_if_done()
        return await queued

    def _apply(
        self, group: _Commit, statements: Callable[[sqlite3.Connection], T], savepoint: bool
    ) -> T:
        """Run one writer's statements in the open group (on its savepoint, if asked)."""
        if savepoint:
            self.conn.execute("SAVEPOINT write")
        try:
            result = statements(self.conn)
        except BaseException:
            if not self.conn.in_transaction:
                self._lost(group)
            elif savepoint:
                self.conn.execute("ROLLBACK TO write")
                self.conn.execute("RELEASE write")
            raise
        if savepoint:
            self.conn.execute("RELEASE write")
        return result

    def _run_queued(self) -> None:
        """Run the writes that queued during a commit as one group, and commit it at once."""
        queue, self._queue = self._queue, []
        queue = [queued for queued in queue if queued.begin()]  # cancelled ones never ran
        if not queue:
            return
        group = self._group or self._open_group()
        for queued in queue:
            if group.done():  # an earlier writer's error rolled the group back (_lost)
                queued.set_exception(StoreUnavailable("the transaction was rolled back"))
                continue
            try:
                result = self._apply(group, queued.statements, queued.savepoint)
            except BaseException as error:  # the writer's own error, delivered to it
                queued.set_exception(error)
            else:
                group.answers.append((queued, result))  # answered when it commits
        self._commit(group)

    def _open_group(self) -> _Commit:
        """Begin the group transaction; it commits once the loop has run the writers that
        are ready now."""
        loop = asyncio.get_running_loop()
        self.conn.execute("BEGIN IMMEDIATE")
        group = self._group = _Commit(loop=loop)
        loop.call_soon(self._commit, group)
        return group

    def _lost(self, group: _Commit) -> None:
        """An error SQLite answers by rolling back the whole transaction (a full disk, an
        I/O error) took the group's earlier writes with it: their writers get
        StoreUnavailable, and the next write begins a new group instead of running
        outside any transaction."""
        if self._group is group:
            self._group = None
            group.settle(StoreUnavailable("the transaction was rolled back"))
            group.exception()  # delivered to the writers awaiting it; none may be left

    def _commit(self, group: _Commit) -> None:
        if self._group is not group:
            return  # lost (see _lost)
        self._group = None
        if self._committer is None:
            self._committed(group, self._run_commit())
            return
        loop = asyncio.get_running_loop()
        busy = self._busy = _Commit(loop=loop)

        def finished(error: BaseException | None) -> None:
            self._busy = None
            busy.set_result(None)
            self._committed(group, error)
            if self._queue:
                self._run_queued()

        self._job = self._committer.submit(self._run_commit, finished, loop)

    def _run_commit(self) -> BaseException | None:
        """COMMIT (on the committer thread, for a file database); the error, if any."""
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as error:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            return error
        return None

    def _committed(self, group: _Commit, error: BaseException | None) -> None:
        if error is not None:
            if self.conn.in_transaction:  # whatever failed, the next group starts clean
                self.conn.execute("ROLLBACK")
            group.settle(StoreUnavailable(f"commit failed: {error}"))
            return
        group.settle(None)
        if self._checkpointer is not None:
            self._checkpointer.commit_done()

    async def ping(self) -> None:
        try:
            self.reader.execute("SELECT 1").fetchone()
        except sqlite3.Error as error:
            raise StoreUnavailable(str(error)) from error

    async def close(self) -> None:
        while self._busy is not None:
            await self._busy
        if self._group is not None:
            group, self._group = self._group, None
            self._committed(group, self._run_commit())
        if self._committer is not None:
            self._committer.close()
        if self._checkpointer is not None:
            self._checkpointer.close()
        if self.reader is not self.conn:
            self.reader.close()
        self.conn.close()


def _open_reader(path: str) -> sqlite3.Connection:
    """The connection reads run on: autocommit, so every statement sees the latest commit."""
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    reader.execute("PRAGMA busy_timeout = 5000")
    reader.execute("PRAGMA cache_size = -65536")
    reader.execute("PRAGMA query_only = ON")
    return reader
