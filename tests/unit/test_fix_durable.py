"""The FIX session's numbers in the store: restored into QuickFIX's local store when that is
missing or stale, reserved in blocks, synced lazily, never moved back (real QuickFIX
FileStores in a temporary folder, the SQLite store)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.fix.durable import DurableSession, LocalSession, created_at, read_local, write_local
from gateway.fix.session import SessionConfig
from shared.adapters.sqlite.store import open_sqlite_store
from shared.ports.store import Store

KEY = "acme/FIX.4.4:OMS->ACME"
DAY = 1_750_032_000_000_000_000  # 2025-06-16 00:00:00 UTC


def config(folder: Path) -> SessionConfig:
    return SessionConfig("127.0.0.1", 1, "OMS", "ACME", folder)


async def run(function: Any, *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    db = await open_sqlite_store(tmp_path / "oms.sqlite3")
    yield db
    await db.close()


async def test_a_first_start_reserves_a_block_past_the_local_store(store, tmp_path):
    local = config(tmp_path / "a")
    await run(write_local, local, LocalSession(41, 17, DAY))
    durable = DurableSession(store.venues, KEY, block=100)

    start = await durable.restore(local, run)

    saved = await store.venues.session_state(KEY)
    assert (start.next_sender, start.next_target) == (41, 17) and not durable.restored
    assert (saved.next_sender_floor, saved.next_target, saved.created_at) == (141, 17, DAY)
    assert durable.floor == 141 and saved.owner == durable.owner


async def test_a_replica_without_its_disk_continues_from_the_stores_numbers(store, tmp_path):
    first = DurableSession(store.venues, KEY, block=100)
    await run(write_local, config(tmp_path / "a"), LocalSession(41, 17, DAY))
    await first.restore(config(tmp_path / "a"), run)
    await first.sync(LocalSession(95, 60, DAY))  # within half a block: the floor moves
    shutil.rmtree(tmp_path / "a")

    second = DurableSession(store.venues, KEY, block=100)
    start = await second.restore(config(tmp_path / "b"), run)

    # Sends from the floor (every number below it may have been used), expects the next
    # number the first replica had taken; QuickFIX's own creation time goes along.
    assert (start.next_sender, start.next_target, start.created_at) == (195, 60, DAY)
    assert read_local(config(tmp_path / "b")) == start and second.restored
    assert created_at(config(tmp_path / "b")) == DAY
    assert (await store.venues.session_state(KEY)).owner == second.owner != first.owner


async def test_a_replica_whose_store_wrote_last_trusts_its_own_numbers(store, tmp_path):
    folder = tmp_path / "a"
    await run(write_local, config(folder), LocalSession(41, 17, DAY))
    first = DurableSession(store.venues, KEY, block=100)
    await first.restore(config(folder), run)
    await run(write_local, config(folder), LocalSession(55, 30, DAY))  # it ran on, then stopped

    again = DurableSession(store.venues, KEY, block=100)
    start = await again.restore(config(folder), run)

    assert (start.next_sender, start.next_target) == (55, 30) and not again.restored
    assert (await store.venues.session_state(KEY)).next_sender_floor == 155


async def test_numbers_are_written_once_per_half_block_not_per_message(store, tmp_path):
    durable = DurableSession(store.venues, KEY, block=100)
    await durable.restore(config(tmp_path / "a"), run)
    writes, state = durable.writes, durable.state
    assert state is not None
    for sent in range(2, 300):
        await durable.sync(LocalSession(sent, 1, state.created_at))

    # The floor stays at least half a block ahead of the session, moved by whole blocks.
    assert durable.writes - writes <= 300 // 50 + 1
    assert durable.floor >= 299 + 50
    assert await durable.reserve(durable.floor) and durable.floor > 400


async def test_a_concurrent_writer_never_moves_the_numbers_back(store, tmp_path):
    durable = DurableSession(store.venues, KEY, block=10)
    await durable.restore(config(tmp_path / "a"), run)
    ahead = durable.state
    assert ahead is not None
    other = DurableSession(store.venues, KEY, block=10)
    other.owner = "stale-replica"
    other._state = ahead
    await other._save(ahead.created_at, 500, 400)  # a replica that held it before us

    await durable.sync(LocalSession(5, 3, ahead.created_at))

    saved = await store.venues.session_state(KEY)
    assert (saved.next_sender_floor, saved.next_target) == (500, 400)
    assert saved.owner == durable.owner


async def test_a_new_sequence_lifetime_replaces_the_numbers(store, tmp_path):
    durable = DurableSession(store.venues, KEY, block=10)
    await run(write_local, config(tmp_path / "a"), LocalSession(900, 800, DAY))
    await durable.restore(config(tmp_path / "a"), run)

    next_day = DAY + 86_400 * 1_000_000_000
    await durable.sync(LocalSession(2, 2, next_day))  # QuickFIX reset the session

    saved = await store.venues.session_state(KEY)
    assert (saved.created_at, saved.next_sender_floor, saved.next_target) == (next_day, 12, 2)
