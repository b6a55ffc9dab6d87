"""The read gate: an account's page reads take turns; the process's reads share a cap."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from shared.services.errors import RateLimited
from shared.services.read_gate import ReadGate


async def test_an_accounts_reads_run_in_turn_and_first_come_first_served():
    gate = ReadGate(per_account=2, waiting_per_account=10, total=8)
    order: list[int] = []
    release = asyncio.Event()

    async def read(n: int) -> None:
        async with gate.admit("alice"):
            order.append(n)
            await release.wait()

    tasks = [asyncio.create_task(read(n)) for n in range(6)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert order == [0, 1] and gate.running("alice") == 2
    release.set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4, 5]
    assert gate.running("alice") == 0


async def test_too_many_waiting_reads_are_refused_and_other_accounts_are_not():
    gate = ReadGate(per_account=1, waiting_per_account=2, total=8)
    release = asyncio.Event()

    async def read(account: str) -> None:
        async with gate.admit(account):
            await release.wait()

    held = [asyncio.create_task(read("alice")) for _ in range(3)]  # 1 running, 2 waiting
    await asyncio.sleep(0)
    with pytest.raises(RateLimited) as refused:
        async with gate.admit("alice"):
            pass
    assert refused.value.reason == "READ_LIMIT_EXCEEDED" and refused.value.retry_after > 0
    bob = asyncio.create_task(read("bob"))
    await asyncio.sleep(0)
    assert gate.running("bob") == 1
    release.set()
    await asyncio.gather(*held, bob)


async def test_the_process_runs_at_most_total_reads_whoever_asks():
    gate = ReadGate(per_account=2, waiting_per_account=10, total=3)
    running = most = 0
    release = asyncio.Event()

    async def read(account: str) -> None:
        nonlocal running, most
        async with gate.admit(account):
            running += 1
            most = max(most, running)
            await release.wait()
            running -= 1

    tasks = [asyncio.create_task(read(f"acc-{n}")) for n in range(6)]
    for _ in range(3):
        await asyncio.sleep(0)
    assert running == 3
    release.set()
    await asyncio.gather(*tasks)
    assert most == 3


async def test_a_cancelled_waiter_does_not_hold_the_turn():
    gate = ReadGate(per_account=1, waiting_per_account=10, total=8)
    release = asyncio.Event()
    done: list[str] = []

    async def read(name: str) -> None:
        async with gate.admit("alice"):
            await release.wait()
            done.append(name)

    first = asyncio.create_task(read("first"))
    gone = asyncio.create_task(read("gone"))  # its client went away while it waited
    last = asyncio.create_task(read("last"))
    await asyncio.sleep(0)
    gone.cancel()
    release.set()
    await asyncio.gather(first, last)
    assert done == ["first", "last"] and gate.running("alice") == 0


async def test_reads_that_never_wait_still_run_a_few_per_turn_of_the_loop():
    """A page read is CPU in one go: a hundred ready at once must not all run before the
    loop can serve anything else."""
    gate = ReadGate(per_account=2, waiting_per_account=200, total=8)
    turns = 0
    admitted_at: list[int] = []
    others_served_at: list[int] = []

    async def page_read() -> None:
        async with gate.admit("heavy"):
            admitted_at.append(turns)  # all the work happens here, without a pause

    async def someone_else() -> None:
        others_served_at.append(turns)

    reads = [asyncio.create_task(page_read()) for _ in range(100)]
    other = asyncio.create_task(someone_else())
    while not all(task.done() for task in reads):
        await asyncio.sleep(0)
        turns += 1
    await other
    assert max(Counter(admitted_at).values()) <= 2  # never more than two in a turn
    assert others_served_at[0] <= 2  # the other request got its turn at once
    assert len(admitted_at) == 100
