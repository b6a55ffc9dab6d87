"""Guarantee 2 on the matcher service: kill it anywhere, restart it, and it ends exactly
where a run without the crash ends. Workers run on the in-memory bus with SQLite; a seeded
plan kills the process before or after every journal, bus, settlement and snapshot step."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from shared.adapters.bus_faults import BusFaults, FaultRates
from shared.adapters.snapshots_local import FolderSnapshotStore
from shared.adapters.sqlite.store import open_sqlite_store
from tests.integration.test_matcher_support import (
    check_published,
    drain_config,
    drain_executions,
    journal_of,
    make_bus,
    random_commands,
    recovered_hash,
    reference,
    run_workers,
    send_commands,
)
from tools.faults import CrashingBus, CrashingJournal, CrashingSnapshots, CrashPlan

SYMBOLS = ("AAA", "BBB")
SEEDS = range(24)


async def crash_run(seed: int, tmp_path: Path, rate: float, faults: BusFaults | None = None):
    commands = random_commands(seed, 160, SYMBOLS)
    store = await open_sqlite_store(":memory:")
    bus = make_bus(faults)
    await send_commands(bus, commands)
    plan = CrashPlan(seed, rate)
    folder = tmp_path / f"snap-{seed}"
    crashing_store = dataclasses.replace(store, journal=CrashingJournal(store.journal, plan))
    outcome = await run_workers(
        crashing_store,
        CrashingBus(bus, plan),
        CrashingSnapshots(FolderSnapshotStore(folder), plan),
        drain_config(),
    )
    return commands, store, bus, folder, plan, outcome


@pytest.mark.parametrize("seed", SEEDS)
async def test_killed_anywhere_the_matcher_ends_exactly_as_a_clean_run(
    seed: int, tmp_path: Path
) -> None:
    commands, store, bus, folder, plan, outcome = await crash_run(seed, tmp_path, rate=0.04)
    expected = reference(commands)
    published = await drain_executions(bus, SYMBOLS)
    for symbol, (journal, state_hash) in expected.items():
        assert await journal_of(store, symbol) == journal  # each command exactly once
        check_published(published, journal, symbol)
        assert await recovered_hash(store, folder, symbol) == state_hash
    assert 0 < outcome.crashes <= len(plan.crashes)  # a gather can crash twice at once
    assert await bus.dead_letters("orders") == []
    await store.close()


async def test_the_crash_plans_reach_every_step_of_the_outbox(tmp_path: Path) -> None:
    """The seeds above are not luck: together they kill the process at every point."""
    points: Counter[str] = Counter()
    for seed in SEEDS:
        *_, plan, _ = await crash_run(seed, tmp_path, rate=0.04)
        points.update(plan.crashes)
    for step in (
        "journal.append:before",
        "journal.append:after",
        "bus.send.executions:before",
        "bus.send.executions:after",
        "journal.mark_published:before",
        "journal.mark_published:after",
        "receiver.complete:before",
        "receiver.complete:after",
        "receiver.receive:after",
        "snapshots.save:before",
        "snapshots.save:after",
        "journal.find_by_command:before",
        "journal.published_seq:before",
    ):
        assert points[step] > 0, step


@pytest.mark.parametrize("seed", range(6))
async def test_crashes_with_lost_locks_redeliveries_and_duplicates_still_match_a_clean_run(
    seed: int, tmp_path: Path
) -> None:
    faults = BusFaults(seed, FaultRates(expire_lock=0.1, redeliver=0.05, duplicate_send=0.1))
    commands, store, bus, folder, _, outcome = await crash_run(
        seed, tmp_path, rate=0.02, faults=faults
    )
    assert len({f for f, _ in faults.injected}) >= 2
    published = await drain_executions(bus, SYMBOLS)
    for symbol, (journal, state_hash) in reference(commands).items():
        assert await journal_of(store, symbol) == journal
        check_published(published, journal, symbol)
        assert await recovered_hash(store, folder, symbol) == state_hash
    assert outcome.lock_losses > 0
    await store.close()


async def test_a_snapshot_past_the_journals_end_is_ignored_not_trusted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A database restored from an older backup (or replaced) next to newer snapshots: the
    snapshot's orders are not in this store, so the book is rebuilt from the journal."""
    folder = tmp_path / "snapshots"
    first = random_commands(1, 120, ("AAA",))
    old_store = await open_sqlite_store(":memory:")
    old_bus = make_bus()
    await send_commands(old_bus, first)
    await run_workers(old_store, old_bus, FolderSnapshotStore(folder), drain_config())
    latest = await FolderSnapshotStore(folder).latest("AAA")
    assert latest is not None and latest[0] > 0  # the old run left a snapshot with orders

    then = random_commands(2, 80, ("AAA",))  # other command ids than the first run's
    store = await open_sqlite_store(":memory:")  # empty journal, same snapshot folder
    bus = make_bus()
    await send_commands(bus, then)
    await run_workers(store, bus, FolderSnapshotStore(folder), drain_config())

    journal, _ = reference(then)["AAA"]
    assert await journal_of(store, "AAA") == journal  # as if from an empty book
    assert "past the journal's end" in caplog.text
    await old_store.close()
    await store.close()
