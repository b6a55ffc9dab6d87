"""Background bookkeeping: batched writes that a request does not wait for."""

from __future__ import annotations

import asyncio

import pytest

from shared.services.background import Background


async def test_items_added_while_a_write_runs_go_together_in_the_next_call():
    background = Background()
    calls: list[list[int]] = []
    release = asyncio.Event()

    async def write(items: list[int]) -> None:
        calls.append(items)
        await release.wait()

    for item in (1, 2):
        background.add_to_batch(write, item, "writing")
    await asyncio.sleep(0)  # the first call starts, with both
    for item in (3, 4, 5):
        background.add_to_batch(write, item, "writing")
    await asyncio.sleep(0)
    assert calls == [[1, 2]]  # one call at a time
    release.set()
    await background.drain()
    assert calls == [[1, 2], [3, 4, 5]]

    background.add_to_batch(write, 6, "writing")  # idle again: a new call
    await background.drain()
    assert calls[-1] == [6]


async def test_a_failed_call_is_logged_and_the_items_after_it_are_still_written(
    caplog: pytest.LogCaptureFixture,
):
    background = Background()
    written: list[str] = []

    async def write(items: list[str]) -> None:
        if "bad" in items:
            raise ConnectionError("store down")
        written.extend(items)

    background.add_to_batch(write, "bad", "marking orders dispatched")
    await asyncio.sleep(0)
    background.add_to_batch(write, "good", "marking orders dispatched")
    await background.drain()
    assert written == ["good"]
    assert "marking orders dispatched failed for 1" in caplog.text
