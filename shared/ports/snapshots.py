"""The snapshot store port: the latest serialized book of each instrument, by sequence number.

A snapshot is derived data: the journal is the record, and a snapshot only shortens the
replay after a restart. `save` is atomic (a reader sees the whole snapshot or none of it)
and `latest` returns the one with the highest sequence number. Blob Storage in Azure, a
folder in the embedded run.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote

SNAPSHOT_SUFFIX = ".json"


def snapshot_name(symbol: str, seq: int) -> str:
    """`{symbol}/{seq:020d}.json`: listing a symbol's names in order puts the latest last.

    The symbol is percent-encoded, so a `/` in it cannot open another folder."""
    if seq < 0:
        raise ValueError("a snapshot sequence number is never negative")
    return f"{symbol_folder(symbol)}/{seq:020d}{SNAPSHOT_SUFFIX}"


def symbol_folder(symbol: str) -> str:
    """The folder (blob name prefix) of one instrument's snapshots."""
    if not symbol:
        raise ValueError("a snapshot needs a symbol")
    return quote(symbol, safe="")


def seq_of(name: str) -> int | None:
    """The sequence number in a snapshot name (its last path segment); None if not one."""
    leaf = name.rsplit("/", 1)[-1]
    if not leaf.endswith(SNAPSHOT_SUFFIX):
        return None
    digits = leaf[: -len(SNAPSHOT_SUFFIX)]
    return int(digits) if len(digits) == 20 and digits.isdigit() else None


class SnapshotStore(Protocol):
    """Per instrument, snapshots keyed by the instrument sequence they were taken at."""

    async def save(self, symbol: str, seq: int, data: bytes) -> None:
        """Store the snapshot taken at `seq`, atomically; saving the same seq again replaces
        it. Raises on failure (nothing is half-written)."""
        ...

    async def latest(self, symbol: str) -> tuple[int, bytes] | None:
        """The snapshot with the highest seq as (seq, data), or None when there is none."""
        ...

    async def prune(self, symbol: str, keep: int) -> int:
        """Delete all but the `keep` newest snapshots of the instrument; how many went."""
        ...

    async def close(self) -> None:
        """Release the client and credential (the store is unusable afterwards)."""
        ...
