"""Snapshots in a local folder: the embedded run's default (OMS_DATA_DIR/snapshots).

Layout `{folder}/{symbol}/{seq:020d}.json`. A save writes a temporary file, fsyncs it,
renames it over the final name (atomic on POSIX) and fsyncs the directory, so a crash at any
point leaves either the whole snapshot or none of it. File work runs in a worker thread so a
large book does not stall the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

from shared.ports.snapshots import seq_of, snapshot_name, symbol_folder


class FolderSnapshotStore:
    """The SnapshotStore port on a folder."""

    def __init__(self, folder: str | Path) -> None:
        self._root = Path(folder)

    async def save(self, symbol: str, seq: int, data: bytes) -> None:
        await asyncio.to_thread(self._save, snapshot_name(symbol, seq), data)

    def _save(self, name: str, data: bytes) -> None:
        target = self._root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a power cut
        finally:
            os.close(dir_fd)

    def _names(self, symbol: str) -> list[tuple[int, Path]]:
        folder = self._root / symbol_folder(symbol)
        if not folder.is_dir():
            return []
        found = []
        for path in folder.iterdir():
            seq = seq_of(path.name)
            if seq is not None:
                found.append((seq, path))
        return sorted(found)

    async def latest(self, symbol: str) -> tuple[int, bytes] | None:
        return await asyncio.to_thread(self._latest, symbol)

    def _latest(self, symbol: str) -> tuple[int, bytes] | None:
        names = self._names(symbol)
        if not names:
            return None
        seq, path = names[-1]
        return seq, path.read_bytes()

    async def prune(self, symbol: str, keep: int) -> int:
        return await asyncio.to_thread(self._prune, symbol, keep)

    def _prune(self, symbol: str, keep: int) -> int:
        if keep < 1:
            raise ValueError("keep at least the latest snapshot")
        old = self._names(symbol)[:-keep]
        for _, path in old:
            path.unlink(missing_ok=True)
        return len(old)

    async def close(self) -> None:
        return None
