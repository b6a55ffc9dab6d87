"""The SQLite connections and the transactions (group commit).

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
fsync of each) run on a thread of their own (`checkpointer.Checkpointer`); the event loop
only copies what that thread has left when the WAL reaches its bound. The schema is in
`schema`, the group commit's parts in `commits`.

Durability: WAL with `synchronous=NORMAL` survives a killed process (every committed
transaction is in the WAL); an operating-system crash or power cut may lose the last
transactions before a checkpoint. Pass `synchronous="FULL"` to trade speed for that.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from shared.adapters.sqlite.checkpointer import Checkpointer
from shared.adapters.sqlite.commits import Commit, CommitJob, Committer, Queued
from shared.adapters.sqlite.schema import SCHEMA, migrate
from shared.ports.store_errors import StoreUnavailable

T = TypeVar("T")

WAL_PAGES = 10_000  # the WAL's bound in pages (of 4 KiB): about 40 MB


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
        self.conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_PAGES}")
        self.conn.executescript(SCHEMA)
        migrate(self.conn)
        self.reader = self.conn if in_memory else _open_reader(str(path))
        self._committer = None if in_memory else Committer()
        self._group: Commit | None = None
        self._busy: Commit | None = None  # the commit in flight on the committer thread
        self._job: CommitJob | None = None  # and its job there
        self._queue: list[Queued[Any]] = []  # writes that arrived during that commit
        self._checkpointer = Checkpointer(str(path), synchronous, WAL_PAGES) if wal else None

    def bound_wal(self, pages: int) -> None:
        """Keep the WAL near `pages` pages (the default suits a busy local run)."""
        self.conn.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
        if self._checkpointer is not None:
            self._checkpointer.wal_pages = int(pages)

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
        queued = Queued(statements, savepoint, loop=asyncio.get_running_loop())
        self._queue.append(queued)
        # Committed already, its answer still on its way through the loop's queue: take
        # it now, so this write and those before it start the next commit at once.
        assert self._job is not None
        self._job.deliver_if_done()
        return await queued

    def _apply(
        self, group: Commit, statements: Callable[[sqlite3.Connection], T], savepoint: bool
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

    def _open_group(self) -> Commit:
        """Begin the group transaction; it commits once the loop has run the writers that
        are ready now."""
        loop = asyncio.get_running_loop()
        self.conn.execute("BEGIN IMMEDIATE")
        group = self._group = Commit(loop=loop)
        loop.call_soon(self._commit, group)
        return group

    def _lost(self, group: Commit) -> None:
        """An error SQLite answers by rolling back the whole transaction (a full disk, an
        I/O error) took the group's earlier writes with it: their writers get
        StoreUnavailable, and the next write begins a new group instead of running
        outside any transaction."""
        if self._group is group:
            self._group = None
            group.settle(StoreUnavailable("the transaction was rolled back"))
            group.exception()  # delivered to the writers awaiting it; none may be left

    def _commit(self, group: Commit) -> None:
        if self._group is not group:
            return  # lost (see _lost)
        self._group = None
        if self._committer is None:
            self._committed(group, self._run_commit())
            return
        loop = asyncio.get_running_loop()
        busy = self._busy = Commit(loop=loop)

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

    def _committed(self, group: Commit, error: BaseException | None) -> None:
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
