"""A FIX session kept in the store survives the loss of the gateway's local disk: a new
replica (its state folder empty) continues the venue's session from the store's copy (no
sequence reset), the venue resends what it reported while no one held the session, and
every fill arrives (once by execution id). Both sides QuickFIX, real TCP on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.fix.connector import FixConnector
from gateway.fix.durable import DurableSession, session_key
from gateway.fix.session import SessionConfig
from shared.adapters.sqlite.store import open_sqlite_store
from shared.domain.enums import OrderType, Side, TimeInForce
from shared.ports.store import Store
from shared.ports.venue import ReportKind, VenueOrder, VenueReport
from tests.support.fix_exchange import ROOT, FixExchange, eventually

pytestmark = pytest.mark.timeout(240)  # QuickFIX threads: a hang fails with its stacks

T0 = 1_750_000_000_000_000_000


class Reports:
    def __init__(self) -> None:
        self.items: list[VenueReport] = []

    async def __call__(self, report: VenueReport) -> None:
        self.items.append(report)

    def of(self, cl_ord_id: str, kind: ReportKind) -> list[VenueReport]:
        return [r for r in self.items if r.cl_ord_id == cl_ord_id and r.kind is kind]


def order(cl_ord_id: str, quantity: str = "10") -> VenueOrder:
    return VenueOrder(
        cl_ord_id, "AAPL", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, Decimal(quantity), T0,
        price=Decimal("100"),
    )  # fmt: skip


def config(exchange: FixExchange, store_dir: Path) -> SessionConfig:
    return SessionConfig(
        "127.0.0.1", exchange.fix_port, "OMS", "EXCH", store_dir, heartbeat_seconds=5
    )


def replica(exchange: FixExchange, store: Store, state_dir: Path, block: int) -> FixConnector:
    """A gateway replica's connector: its local QuickFIX store in `state_dir`, the
    session's numbers also in the OMS's store."""
    session = config(exchange, state_dir / "acme")
    durable = DurableSession(store.venues, session_key("acme", session), block=block)
    return FixConnector("acme", session, logon_timeout=5, first_backoff=0.2, durable=durable)


@pytest.fixture
async def exchange(tmp_path: Path) -> AsyncIterator[FixExchange]:
    sim = await FixExchange(tmp_path / "exchange").start()
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    db = await open_sqlite_store(tmp_path / "oms.sqlite3")
    yield db
    await db.close()


async def test_a_new_replica_continues_the_session_and_recovers_the_fills_of_the_gap(
    exchange: FixExchange, store: Store, tmp_path: Path
):
    block = 6
    first_reports = Reports()
    first = replica(exchange, store, tmp_path / "replica-a", block)
    await first.start(first_reports)
    try:
        assert await first.wait_connected(20)
        for i in range(8):
            await first.place(order(f"d-{i}"))
        await eventually(lambda: len(first_reports.items) == 8)
        await exchange.post("/fill", cl_ord_id="d-0", quantity="4")
        await eventually(lambda: first_reports.of("d-0", ReportKind.TRADE))
        sent_first = (await exchange.state())["next_target_seq"] - 1
    finally:
        await first.stop()
    assert first._durable is not None
    # Numbers are reserved in blocks: far fewer store writes than messages sent.
    assert first._durable.writes <= sent_first // (block // 2) + 3 < sent_first

    # While no replica holds the venue, it fills: reports the session must deliver later.
    await exchange.post("/fill", cl_ord_id="d-0", quantity="6")
    await exchange.post("/fill", cl_ord_id="d-1", quantity="10")
    shutil.rmtree(tmp_path / "replica-a")  # the replica is replaced: its disk is gone

    second_reports = Reports()
    second = replica(exchange, store, tmp_path / "replica-b", block)
    await second.start(second_reports)
    try:
        assert await second.wait_connected(20)
        await eventually(lambda: second_reports.of("d-1", ReportKind.TRADE))
        await eventually(lambda: len(second_reports.of("d-0", ReportKind.TRADE)) >= 1)
        await second.place(order("d-after"))
        await eventually(lambda: second_reports.of("d-after", ReportKind.NEW))
    finally:
        await second.stop()

    state = await exchange.state()
    assert second._durable is not None and second._durable.restored
    # No reset: the new replica logged on past every number the first one had used.
    first_logon, second_logon = state["logon_seqs"]
    assert first_logon == 1 and second_logon > sent_first
    # The gap's fills came resent by the venue's session layer, each once.
    gap = [r for r in second_reports.items if r.is_fill]
    assert {(r.cl_ord_id, r.last_qty) for r in gap} == {("d-0", Decimal(6)), ("d-1", Decimal(10))}
    assert all(r.poss_dup for r in gap) and len({r.exec_id for r in gap}) == len(gap)
    every_fill = {r.exec_id: r for r in first_reports.items + second_reports.items if r.is_fill}
    for placed in state["orders"]:
        taken = [r.last_qty for r in every_fill.values() if r.cl_ord_id == placed["cl_ord_id"]]
        assert sum(taken, Decimal(0)) == Decimal(placed["cum_qty"]), placed
    assert len(state["orders"]) == 9


def lines(out: Path) -> list[dict[str, Any]]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines()]


def connector_process(
    exchange: FixExchange, state_dir: Path, db: Path, out: Path, *extra: str
) -> subprocess.Popen[bytes]:
    command = [
        *(sys.executable, "-m", "tests.support.connector_process"),
        *("--port", str(exchange.fix_port), "--store", str(state_dir), "--out", str(out)),
        *("--db", str(db), "--block", "4", *extra),
    ]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def taken(out: Path) -> list[dict[str, Any]]:
    return [x["taken"] for x in lines(out) if "taken" in x]


async def test_a_replica_killed_and_replaced_leaves_no_fill_lost_or_doubled(
    exchange: FixExchange, tmp_path: Path
):
    db, state_a, state_b = tmp_path / "oms.sqlite3", tmp_path / "a", tmp_path / "b"
    out_a, out_b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first = connector_process(exchange, state_a, db, out_a, "--place", "k-1")
    second = None
    try:
        await eventually(lambda: any(r["kind"] == "new" for r in taken(out_a)), timeout=60)
        await exchange.post("/fill", cl_ord_id="k-1", quantity="2")
        await eventually(lambda: any(r["kind"] == "trade" for r in taken(out_a)), timeout=30)
        first.kill()  # kill -9: no logout, no last write of the session's numbers
        await asyncio.to_thread(first.wait)
        shutil.rmtree(state_a)  # and the replica is gone with its disk

        await exchange.post("/fill", cl_ord_id="k-1", quantity="3")  # during the gap
        second = connector_process(exchange, state_b, db, out_b, "--place", "k-2")
        await eventually(lambda: any(r["cum_qty"] == "5" for r in taken(out_b)), timeout=60)
        await eventually(lambda: any(r["cl_ord_id"] == "k-2" for r in taken(out_b)), timeout=30)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                await asyncio.to_thread(process.wait)

    assert any(x.get("restored") for x in lines(out_b) if "connected" in x)
    fills = {r["exec_id"]: r for r in taken(out_a) + taken(out_b) if r["kind"] == "trade"}
    # Applied once by execution id, the fills add up to what the venue filled: 2 + 3.
    assert sum(Decimal(r["last_qty"]) for r in fills.values()) == Decimal(5)
    assert (await exchange.order("k-1"))["cum_qty"] == "5"
    gap_fill = next(r for r in taken(out_b) if r["cum_qty"] == "5")
    assert gap_fill["poss_dup"] is True
    logons = (await exchange.state())["logon_seqs"]
    assert logons[0] == 1 and logons[-1] > 1  # continued, not reset
