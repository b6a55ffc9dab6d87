"""Newest-first keyset paging shared by the SQLite repositories."""

from __future__ import annotations

from shared.ports.store_paging import decode_cursor


def add_time_window(
    where: list[str],
    args: list[object],
    time_column: str,
    key_column: str,
    since: int | None,
    until: int | None,
    cursor: str | None,
) -> None:
    """Add `since <= time < until` and the cursor's "older than (time, key)" terms."""
    if since is not None:
        where.append(f"{time_column} >= ?")
        args.append(since)
    if until is not None:
        where.append(f"{time_column} < ?")
        args.append(until)
    if cursor is not None:
        ts, key = decode_cursor(cursor)
        where.append(f"({time_column}, {key_column}) < (?, ?)")
        args.extend((ts, key))
