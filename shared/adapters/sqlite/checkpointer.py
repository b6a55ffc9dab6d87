"""Checkpoints on a thread of their own: committed pages go from the WAL back into the
database file without the event loop paying for the copying or its fsync."""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)


class Checkpointer:
    """Copies committed pages from the WAL back into the database file on a thread and a
    connection of its own, so the event loop does not pay for it.

    Each run is a PASSIVE checkpoint: it never blocks or waits for the writer, and it syncs
    the WAL before and the database file after, as SQLite's own checkpoint does. A run
    starts when a commit has happened since the last one, at most every PAUSE seconds, so a
    page rewritten by many commits is copied once. The WAL stays bounded by SQLite's own
    automatic checkpoint on the writer's connection: once the WAL holds
    `wal_autocheckpoint` pages, the commit that finds no run in progress copies what is
    left (little, as the thread has copied the rest) and the WAL starts over from its
    beginning on the next write. Under a steady stream of commits the writer can keep
    finding a run in progress, so the WAL would only grow: when a run leaves twice
    `wal_pages` in the WAL, the thread also runs a RESTART checkpoint, which waits for the
    commit in flight and makes the next write start the WAL over.
    """

    PAUSE = 0.05

    def __init__(self, path: str, synchronous: str, wal_pages: int) -> None:
        self.wal_pages = wal_pages
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
                _, in_wal, _ = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if in_wal >= 2 * self.wal_pages:
                    self._conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
            except sqlite3.Error:
                log.exception("background checkpoint failed (the next one copies its pages)")
            self._closing.wait(self.PAUSE)
        self._conn.close()

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        self._thread.join()
