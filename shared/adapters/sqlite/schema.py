"""The SQLite schema: tables and indexes, the columns added to older databases, and the
open-exposure table that triggers keep in step with the orders inside every order write."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from shared.domain.enums import OrderStatus
from shared.domain.order import OPEN_STATUSES, PENDING_STATUSES

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
    doc BLOB NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS risk_ledgers (
    account_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    doc BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS feed_streams (
    stream TEXT PRIMARY KEY,
    epoch TEXT NOT NULL,
    seq INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS venues (
    name TEXT PRIMARY KEY,
    doc BLOB NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS venue_connections (
    name TEXT PRIMARY KEY,
    doc BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS venue_sessions (
    key TEXT PRIMARY KEY,
    doc BLOB NOT NULL,
    version INTEGER NOT NULL
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

# Columns SCHEMA's CREATE TABLE IF NOT EXISTS cannot add to a database made before they
# existed: (table, column, definition, backfill or None), added at open; the indexes on
# them follow in LATE_SCHEMA.
MIGRATIONS = (
    (
        "orders",
        "updated_at",
        "INTEGER NOT NULL DEFAULT 0",
        "UPDATE orders SET updated_at = created_at",
    ),
    ("journal_marks", "projected_seq", "INTEGER NOT NULL DEFAULT 0", None),
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
    ("instruments", "version", "INTEGER NOT NULL DEFAULT 0", None),
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
    ("venues", "version", "INTEGER NOT NULL DEFAULT 0", None),
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

# The pending-command outbox holds only orders waiting for the matcher, so its index covers
# just them. The DROPs clean databases made before: orders_pending spelled the same index
# with an IN list (see status_in), and orders_open made every order write pay a random-key
# index write for what the order_exposure table below keeps for less.
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
# A database made before the exposure table: its open orders make the first rows.
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
        if exists is not None and not _exposure_current(conn):
            # Made when the open statuses were fewer (before `held`): made again, from
            # the orders, so every open order counts.
            for name in _EXPOSURE_TRIGGERS:
                conn.execute(f"DROP TRIGGER IF EXISTS {name}")
            conn.execute("DROP TABLE order_exposure")
            exists = None
        if exists is None:
            for statement in _statements(EXPOSURE_SCHEMA + _BUILD_EXPOSURE):
                conn.execute(statement)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


_EXPOSURE_TRIGGERS = tuple(
    f"order_exposure_{name}"
    for name in ("insert", "delete", "update", "update_leave", "update_join")
)


def _exposure_current(conn: sqlite3.Connection) -> bool:
    """Whether the exposure triggers are the ones EXPOSURE_SCHEMA makes now."""
    wanted = {
        statement.split()[2]: statement.rstrip(";")
        for statement in _statements(EXPOSURE_SCHEMA)
        if statement.startswith("CREATE TRIGGER")
    }
    stored = dict(
        conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    )
    return all(stored.get(name) == sql for name, sql in wanted.items())


def _statements(script: str) -> list[str]:
    """The statements of `script`, one by one (executescript would commit first)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements
