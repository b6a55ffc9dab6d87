"""The `reducing` kill switch holds under concurrency: many sells at once, over real HTTP on
a SQLite file (its reads see committed data only, so concurrent requests interleave between
the intake's read of the open orders and its write), never flip the position. An order
accepted under `reducing` is reduce-only (it says so), and the matcher, one writer per
instrument, refuses one that would go past the position (`REDUCE_ONLY_WOULD_INCREASE`).

How far requests interleave depends on the machine; `all_read_first` makes it the worst
case every time: each request's intake reads the account's open orders before any of them
stores its order (as on a busy host)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.adapters.sqlite.store import open_sqlite_store
from shared.domain.enums import AccountType, TradingState
from shared.services import admin, reducing
from tests.support.oms import Client, HttpTransport, Oms, Reply, make_oms, serve

CONCURRENT = 12
SELL: dict[str, Any] = {"symbol": "ABC", "side": "sell"}


@pytest.fixture
async def oms(tmp_path: Path) -> AsyncIterator[Oms]:
    system = await make_oms(store=await open_sqlite_store(tmp_path / "oms.db"))
    await system.add_instrument("ABC", "0.01", "1", reference_price="100")
    yield system
    await system.container.store.close()


@pytest.fixture
async def http(oms: Oms) -> AsyncIterator[HttpTransport]:
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=CONCURRENT)
    async with (
        serve(oms.app) as url,
        httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client,
    ):
        yield HttpTransport(client)


@pytest.fixture(autouse=True)
def all_read_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """The intake's reads of the open orders wait until every concurrent request has read
    (at most a few seconds, in case fewer get there)."""
    read = reducing.open_on_side
    arrived = 0
    everyone = asyncio.Event()

    async def after_everyone(*args: Any, **kwargs: Any) -> int:
        nonlocal arrived
        found = await read(*args, **kwargs)
        arrived += 1
        if arrived >= CONCURRENT:
            everyone.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(everyone.wait(), timeout=5)
        return found

    monkeypatch.setattr(reducing, "open_on_side", after_everyone)


async def net_position(client: Client) -> int:
    items = (await client.call("GET", "/api/positions")).json()["items"]
    return sum(int(p["net_quantity"]) for p in items if p["symbol"] == "ABC")


async def orders_of(client: Client, replies: list[Reply]) -> list[dict[str, Any]]:
    """The orders the accepted replies placed, as stored after the matcher answered."""
    found = []
    for reply in replies:
        if reply.status == 202:
            order_id = reply.json()["order_id"]
            found.append((await client.call("GET", f"/api/orders/{order_id}")).json())
    return found


def refusals_say_why(replies: list[Reply], orders: list[dict[str, Any]]) -> None:
    """Every sell either went through reduce-only, or says why it did not: a 422 from the
    intake, or a rejection by the matcher."""
    for reply in replies:
        if reply.status != 202:
            assert reply.status == 422, reply.body
            assert reply.json()["reason"] == "ACCOUNT_REDUCING_ONLY"
            assert reply.json()["field"] == "quantity"
    for order in orders:
        assert order["reduce_only"] is True, order
        if order["status"] == "rejected":
            assert order["reject_reason"] == "REDUCE_ONLY_WOULD_INCREASE", order


async def test_concurrent_sells_of_a_reducing_paper_account_never_flip_its_position(
    oms: Oms, http: HttpTransport
) -> None:
    account_id, key = await oms.add_account("paper", AccountType.PAPER)
    trader = Client(http, key)
    bought = await trader.place(
        symbol="ABC", side="buy", type="market", quantity="11", time_in_force="ioc"
    )
    assert bought.status == 202, bought.body
    await oms.settle()
    assert await net_position(trader) == 11
    await admin.set_account_state(oms.container, account_id, TradingState.REDUCING, "test")

    sell = {**SELL, "quantity": "6", "type": "market", "time_in_force": "ioc"}
    replies = list(await asyncio.gather(*(trader.place(**sell) for _ in range(CONCURRENT))))
    await oms.settle()

    assert await net_position(trader) == 5  # one sell of 6 filled, no other could
    orders = await orders_of(trader, replies)
    refusals_say_why(replies, orders)
    assert [o["status"] for o in orders].count("filled") == 1


async def test_concurrent_resting_sells_of_a_reducing_account_never_exceed_its_position(
    oms: Oms, http: HttpTransport
) -> None:
    alice_id, alice_key = await oms.add_account("alice")
    _, bob_key = await oms.add_account("bob")
    alice, bob = Client(http, alice_key), Client(http, bob_key)
    limit: dict[str, Any] = {"type": "limit", "time_in_force": "gtc"}
    assert (await bob.place(**SELL, **limit, limit_price="100", quantity="11")).status == 202
    bought = await alice.place(symbol="ABC", side="buy", quantity="11", limit_price="100", **limit)
    assert bought.status == 202
    await oms.settle()
    await admin.set_account_state(oms.container, alice_id, TradingState.REDUCING, "test")

    sell = {**SELL, **limit, "quantity": "6", "limit_price": "101"}
    replies = list(await asyncio.gather(*(alice.place(**sell) for _ in range(CONCURRENT))))
    await oms.settle()
    orders = await orders_of(alice, replies)
    refusals_say_why(replies, orders)
    working = [o for o in orders if o["status"] == "new"]
    assert sum(int(o["leaves_quantity"]) for o in working) <= 11

    # Bob buys everything on offer: alice sells at most what she holds.
    taken = await bob.place(
        symbol="ABC",
        side="buy",
        quantity="100",
        limit_price="101",
        type="limit",
        time_in_force="ioc",
    )
    assert taken.status == 202
    await oms.settle()
    assert 0 <= await net_position(alice) <= 5
