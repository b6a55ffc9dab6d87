"""A connector killed with `kill -9` while a fill is in its hands, not yet taken by its sink:
restarted on the same session store, it is sent that fill again (and only what it had not
taken), so nothing the venue reported is lost and nothing taken comes twice."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.fix_exchange import ROOT, FixExchange, eventually

pytestmark = pytest.mark.timeout(180)  # QuickFIX threads: a hang fails with its stacks


def lines(out: Path) -> list[dict[str, Any]]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines()]


def connector(
    exchange: FixExchange, store: Path, out: Path, *extra: str
) -> subprocess.Popen[bytes]:
    command = [
        *(sys.executable, "-m", "tests.support.connector_process"),
        *("--port", str(exchange.fix_port), "--store", str(store), "--out", str(out)),
        *extra,
    ]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


async def test_a_fill_in_hand_at_kill_9_is_delivered_again_after_the_restart(tmp_path: Path):
    exchange = await FixExchange(tmp_path / "exchange").start()
    store, first_out, second_out = tmp_path / "oms", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first = connector(exchange, store, first_out, "--place", "k-1", "--hang-on-trade")
    second = None
    try:
        await eventually(lambda: any("taken" in x for x in lines(first_out)), timeout=60)
        await exchange.post("/fill", cl_ord_id="k-1", quantity="5")
        await eventually(lambda: any("seen" in x for x in lines(first_out)), timeout=30)
        first.kill()  # kill -9 while the fill is in the sink's hands
        await asyncio.to_thread(first.wait)

        second = connector(exchange, store, second_out)
        await eventually(
            lambda: any("taken" in x and x["taken"]["kind"] == "trade" for x in lines(second_out)),
            timeout=60,
        )
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                await asyncio.to_thread(process.wait)
        await exchange.stop()

    taken_first = [x["taken"] for x in lines(first_out) if "taken" in x]
    taken_second = [x["taken"] for x in lines(second_out) if "taken" in x]
    assert [r["kind"] for r in taken_first] == ["new"]
    (fill,) = taken_second
    assert (fill["kind"], fill["cl_ord_id"], fill["last_qty"]) == ("trade", "k-1", "5")
    assert fill["poss_dup"] is True  # the venue's session layer sent it again
    seen = next(x["seen"] for x in lines(first_out) if "seen" in x)
    assert fill["exec_id"] == seen["exec_id"]
