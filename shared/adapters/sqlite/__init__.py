"""The embedded store: the repositories on SQLite (stdlib `sqlite3`, WAL, one writer)."""
