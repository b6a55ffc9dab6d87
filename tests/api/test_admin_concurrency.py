"""Admin writes under concurrency, over real HTTP: no change is lost, creation happens once,
and the instrument's stored trading state is the matcher's.

The store is a SQLite file, as in the local run: its reads see committed data only, so
concurrent requests interleave between a read and the write that follows it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from matcher.engine.venues import InstrumentVenues
from shared.adapters.sqlite.store import open_sqlite_store
from tests.support.oms import Client, HttpTransport, Oms, make_oms, serve

ROUNDS = 10


@pytest.fixture
async def oms(tmp_path: Path) -> AsyncIterator[Oms]:
    system = await make_oms(store=await open_sqlite_store(tmp_path / "oms.db"))
    yield system
    await system.container.store.close()


@pytest.fixture
async def admin(oms: Oms) -> AsyncIterator[Client]:
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    async with serve(oms.app) as url, httpx.AsyncClient(base_url=url) as http:
        yield Client(HttpTransport(http), oms.admin_key)


async def stored(admin: Client, symbol: str = "ABC") -> dict[str, object]:
    reply = await admin.call("GET", f"/api/instruments/{symbol}")
    assert reply.status == 200, reply.body
    body: dict[str, object] = reply.json()
    return body


async def matcher_state(oms: Oms, symbol: str = "ABC") -> str:
    await oms.settle()
    venue = oms.pump.engine(symbol)
    assert isinstance(venue, InstrumentVenues)
    return str(venue.engine.state)


async def test_two_concurrent_patches_of_different_fields_both_stick(admin: Client):
    for n in range(1, ROUNDS + 1):
        first, second = await asyncio.gather(
            admin.call("PATCH", "/api/admin/instruments/ABC", json={"price_collar_bps": 100 + n}),
            admin.call("PATCH", "/api/admin/instruments/ABC", json={"maker_fee_cbps": n}),
        )
        assert (first.status, second.status) == (200, 200)
        now = await stored(admin)
        assert (now["price_collar_bps"], now["maker_fee_cbps"]) == (100 + n, n), n


async def test_a_halt_racing_a_patch_leaves_the_store_and_the_matcher_agreeing(
    oms: Oms, admin: Client
):
    for n in range(1, ROUNDS + 1):
        state = "halted" if n % 2 else "active"
        halt = {"scope": "instrument", "symbol": "ABC", "state": state}
        switched, patched = await asyncio.gather(
            admin.call("POST", "/api/admin/trading-state", json=halt),
            admin.call("PATCH", "/api/admin/instruments/ABC", json={"price_collar_bps": 100 + n}),
        )
        assert (switched.status, patched.status) == (200, 200)
        now = await stored(admin)
        assert (now["trading_state"], now["price_collar_bps"]) == (state, 100 + n), n
        assert await matcher_state(oms) == state, n


async def test_a_halt_racing_a_resume_leaves_the_store_and_the_matcher_agreeing(
    oms: Oms, admin: Client
):
    for n in range(ROUNDS):
        calls = [
            admin.call(
                "POST",
                "/api/admin/trading-state",
                json={"scope": "instrument", "symbol": "ABC", "state": state},
            )
            for state in (("halted", "active") if n % 2 else ("active", "halted"))
        ]
        assert [reply.status for reply in await asyncio.gather(*calls)] == [200, 200]
        assert (await stored(admin))["trading_state"] == await matcher_state(oms), n


async def test_concurrent_creations_of_one_symbol_make_one_instrument(admin: Client):
    ticks = ["0.01", "0.02", "0.05", "0.1", "0.25", "0.5", "1", "5"]
    replies = await asyncio.gather(
        *(
            admin.call(
                "POST",
                "/api/admin/instruments",
                json={"symbol": "NEW", "tick_size": tick, "lot_size": "1"},
            )
            for tick in ticks
        )
    )
    created = [reply for reply in replies if reply.status == 201]
    assert len(created) == 1
    assert sorted(reply.status for reply in replies) == [201] + [409] * 7
    assert {reply.json()["reason"] for reply in replies if reply.status == 409} == {
        "INSTRUMENT_EXISTS"
    }
    assert (await stored(admin, "NEW"))["tick_size"] == created[0].json()["tick_size"]


async def test_concurrent_account_patches_of_different_fields_both_stick(oms: Oms, admin: Client):
    account_id, _ = await oms.add_account("alice")
    path = f"/api/admin/accounts/{account_id}"
    for n in range(1, ROUNDS + 1):
        replies = await asyncio.gather(
            admin.call("PATCH", path, json={"name": f"alice-{n}"}),
            admin.call("PATCH", path, json={"risk_limits": {"max_open_orders": n}}),
            admin.call("PATCH", path, json={"risk_limits": {"burst": 10 + n}}),
        )
        assert [reply.status for reply in replies] == [200, 200, 200]
        account = (await admin.call("GET", path)).json()
        limits = account["risk_limits"]
        assert (account["name"], limits["max_open_orders"], limits["burst"]) == (
            f"alice-{n}",
            n,
            10 + n,
        )
