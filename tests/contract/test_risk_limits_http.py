"""Pre-trade limits hold under concurrency: 100 orders from one account at once, over real
HTTP, never take it past a limit (buying power included), on every store adapter (SQLite,
the MongoDB adapter)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from shared.ports.store import Store
from tests.support.oms import Oms, make_oms, serve

CONCURRENT = 100
GENEROUS: dict[str, Any] = {
    "max_order_notional": Decimal("1000000"),
    "max_open_orders": 100_000,
    "max_daily_orders": 100_000,
    "rate_per_second": 100_000,
    "burst": 100_000,
    "credit_limit": Decimal("100000000"),
}


def buy(quantity: int, price: str = "90") -> dict[str, str]:
    return {
        "symbol": "ABC",
        "side": "buy",
        "type": "limit",
        "quantity": str(quantity),
        "limit_price": price,
        "time_in_force": "gtc",
    }


@pytest.fixture
async def oms(store: Store) -> AsyncIterator[Oms]:
    system = await make_oms(store=store)
    await system.add_instrument("ABC", "0.01", "1", reference_price="100")
    yield system


@pytest.fixture
async def http(oms: Oms) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=CONCURRENT)
    async with (
        serve(oms.app) as url,
        httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client,
    ):
        yield client


async def burst(
    oms: Oms, http: httpx.AsyncClient, bodies: list[dict[str, str]], **limits: Any
) -> tuple[str, list[httpx.Response]]:
    """A new account with these limits (the others generous) sends every body at once."""
    _, key = await oms.add_account("burst", **{**GENEROUS, **limits})
    headers = {"X-API-Key": key}
    replies = await asyncio.gather(
        *(http.post("/api/orders", json=b, headers=headers) for b in bodies)
    )
    return key, list(replies)


async def stored_orders(http: httpx.AsyncClient, key: str) -> list[dict[str, Any]]:
    reply = await http.get("/api/orders", params={"limit": 500}, headers={"X-API-Key": key})
    assert reply.status_code == 200
    items: list[dict[str, Any]] = reply.json()["items"]
    return items


def outcome(replies: list[httpx.Response]) -> Counter[tuple[int, str]]:
    return Counter(
        (r.status_code, "" if r.status_code == 202 else r.json()["reason"]) for r in replies
    )


async def deposit(oms: Oms, http: httpx.AsyncClient, account_id: str, amount: str) -> None:
    body = {"kind": "deposit", "amount": amount, "entry_id": f"dep-{account_id}"}
    path = f"/api/admin/accounts/{account_id}/cash"
    reply = await http.post(path, json=body, headers={"X-API-Key": oms.admin_key})
    assert reply.status_code == 201, reply.text


async def buying_power(http: httpx.AsyncClient, key: str) -> Decimal:
    reply = await http.get("/api/account", headers={"X-API-Key": key})
    return Decimal(reply.json()["buying_power"])


async def test_buying_power_on_credit_holds(oms: Oms, http: httpx.AsyncClient):
    key, replies = await burst(oms, http, [buy(1)] * CONCURRENT, credit_limit=Decimal(1000))
    assert outcome(replies) == {(202, ""): 11, (422, "INSUFFICIENT_BUYING_POWER"): 89}
    orders = await stored_orders(http, key)
    assert sum(Decimal(o["quantity"]) * Decimal(o["limit_price"]) for o in orders) <= 1000
    assert await buying_power(http, key) == Decimal(10)  # 1,000 - 11 x 90


async def test_buying_power_on_cash_holds(oms: Oms, http: httpx.AsyncClient):
    account_id, key = await oms.add_account("cash", **{**GENEROUS, "credit_limit": Decimal(0)})
    await deposit(oms, http, account_id, "1000")
    headers = {"X-API-Key": key}
    replies = await asyncio.gather(
        *(http.post("/api/orders", json=buy(1), headers=headers) for _ in range(CONCURRENT))
    )
    assert outcome(list(replies)) == {(202, ""): 11, (422, "INSUFFICIENT_BUYING_POWER"): 89}
    assert len(await stored_orders(http, key)) == 11
    assert await buying_power(http, key) == Decimal(10)


async def test_of_many_orders_closing_a_position_at_once_only_one_needs_no_buying_power(
    oms: Oms, http: httpx.AsyncClient
):
    # Long 10 bought at 90 with all but 100 of its cash: 100 of buying power left. A sell
    # of the 10 only reduces the position and needs none, but two of them at once would
    # sell 20, a short of 10 nobody paid for: of 100 at once, one goes through, the rest
    # need 900 of buying power each.
    account_id, key = await oms.add_account("closer", **{**GENEROUS, "credit_limit": 0})
    _, other = await oms.add_account("other", **GENEROUS)
    await deposit(oms, http, account_id, "1000")
    headers = {"X-API-Key": key}
    assert (await http.post("/api/orders", json=buy(10), headers=headers)).status_code == 202
    sell = {**buy(10), "side": "sell"}
    await http.post("/api/orders", json=sell, headers={"X-API-Key": other})
    await oms.settle()
    assert await buying_power(http, key) == Decimal(100)

    replies = await asyncio.gather(
        *(http.post("/api/orders", json=sell, headers=headers) for _ in range(CONCURRENT))
    )

    assert outcome(list(replies)) == {(202, ""): 1, (422, "INSUFFICIENT_BUYING_POWER"): 99}
    assert len(await stored_orders(http, key)) == 2  # the buy and one sell


async def test_the_order_notional_limit_holds(oms: Oms, http: httpx.AsyncClient):
    bodies = [buy(1 + n % 2) for n in range(CONCURRENT)]  # 90 (fits), 180 (too much)
    key, replies = await burst(oms, http, bodies, max_order_notional=Decimal(100))
    assert outcome(replies) == {(202, ""): 50, (422, "NOTIONAL_EXCEEDS_LIMIT"): 50}
    assert {o["quantity"] for o in await stored_orders(http, key)} == {"1"}


async def test_the_open_orders_limit_holds(oms: Oms, http: httpx.AsyncClient):
    key, replies = await burst(oms, http, [buy(1)] * CONCURRENT, max_open_orders=10)
    assert outcome(replies) == {(202, ""): 10, (422, "MAX_OPEN_ORDERS_EXCEEDED"): 90}
    assert len(await stored_orders(http, key)) == 10


async def test_the_daily_orders_limit_holds(oms: Oms, http: httpx.AsyncClient):
    key, replies = await burst(oms, http, [buy(1)] * CONCURRENT, max_daily_orders=10)
    assert outcome(replies) == {(202, ""): 10, (422, "DAILY_ORDER_LIMIT_EXCEEDED"): 90}
    assert len(await stored_orders(http, key)) == 10


async def test_the_order_rate_limit_holds(oms: Oms, http: httpx.AsyncClient):
    key, replies = await burst(oms, http, [buy(1)] * CONCURRENT, rate_per_second=1, burst=10)
    assert outcome(replies) == {(202, ""): 10, (429, "RATE_LIMIT_EXCEEDED"): 90}
    assert len(await stored_orders(http, key)) == 10


async def test_an_open_order_comes_back_when_its_order_ends(oms: Oms, http: httpx.AsyncClient):
    _, key = await oms.add_account("trader", **{**GENEROUS, "max_open_orders": 2})
    headers = {"X-API-Key": key}
    first = (await http.post("/api/orders", json=buy(1), headers=headers)).json()
    await http.post("/api/orders", json=buy(1), headers=headers)
    full = await http.post("/api/orders", json=buy(1), headers=headers)
    assert full.json()["reason"] == "MAX_OPEN_ORDERS_EXCEEDED"

    await http.delete(f"/api/orders/{first['order_id']}", headers=headers)
    full = await http.post("/api/orders", json=buy(1), headers=headers)
    assert full.json()["reason"] == "MAX_OPEN_ORDERS_EXCEEDED"  # pending cancel: still open
    await oms.settle()  # canceled: its open order comes back
    assert (await http.post("/api/orders", json=buy(1), headers=headers)).status_code == 202


async def test_buying_power_comes_back_as_orders_end_and_moves_to_cash_as_they_fill(
    oms: Oms, http: httpx.AsyncClient
):
    _, key = await oms.add_account("trader", **{**GENEROUS, "credit_limit": Decimal(200)})
    _, other = await oms.add_account("other", **GENEROUS)
    headers = {"X-API-Key": key}
    first = (await http.post("/api/orders", json=buy(1), headers=headers)).json()
    await http.post("/api/orders", json=buy(1), headers=headers)  # 180 of 200 held
    assert (await http.post("/api/orders", json=buy(1), headers=headers)).status_code == 422
    await http.delete(f"/api/orders/{first['order_id']}", headers=headers)
    await oms.settle()  # canceled: its 90 come back
    assert (await http.post("/api/orders", json=buy(1), headers=headers)).status_code == 202
    await oms.settle()
    # Two resting buys hold 180; a sell fills one: its 90 leave the cash (-90), the other
    # still holds 90, so one more buy at 90 does not fit (200 - 90 - 90 = 20); with the
    # resting one canceled and the position sold back at 110, it does.
    sell = {**buy(1), "side": "sell"}
    others = {"X-API-Key": other}
    assert (await http.post("/api/orders", json=sell, headers=others)).status_code == 202
    await oms.settle()
    refused = await http.post("/api/orders", json=buy(1), headers=headers)
    assert refused.json()["reason"] == "INSUFFICIENT_BUYING_POWER"
    resting = await http.get("/api/orders", params={"status": "new"}, headers=headers)
    for order in resting.json()["items"]:
        await http.delete(f"/api/orders/{order['order_id']}", headers=headers)
    await oms.settle()
    closing = {**buy(1, "110"), "side": "sell"}
    assert (await http.post("/api/orders", json=closing, headers=headers)).status_code == 202
    await http.post("/api/orders", json=buy(1, "110"), headers=others)
    await oms.settle()
    position = await http.get("/api/positions", headers=headers)
    assert [p["net_quantity"] for p in position.json()["items"]] == ["0"]
    assert (await http.post("/api/orders", json=buy(1), headers=headers)).status_code == 202


async def test_a_halted_accounts_ledger_is_rebuilt_from_its_orders(
    oms: Oms, http: httpx.AsyncClient
):
    account_id, key = await oms.add_account("trader", **{**GENEROUS, "max_open_orders": 3})
    headers, admin = {"X-API-Key": key}, {"X-API-Key": oms.admin_key}
    for _ in range(2):
        assert (await http.post("/api/orders", json=buy(2), headers=headers)).status_code == 202
    # A crash between two writes of a store without transactions: the ledger holds too much.
    store = oms.container.store
    stored = await store.risk.get(account_id)
    assert stored is not None and (stored.open_orders, stored.open_notional) == (2, Decimal(360))
    leaked = dataclasses.replace(stored, open_orders=3, open_notional=Decimal(999))
    await store.risk.put(leaked, stored.version)
    assert (await http.post("/api/orders", json=buy(1), headers=headers)).json()["reason"] == (
        "MAX_OPEN_ORDERS_EXCEEDED"
    )

    path = f"/api/admin/accounts/{account_id}/risk-ledger/rebuild"
    refused = await http.post(path, headers=admin)
    assert (refused.status_code, refused.json()["reason"]) == (409, "ACCOUNT_NOT_HALTED")
    halt = {"scope": "account", "account_id": account_id, "state": "halted"}
    await http.post("/api/admin/trading-state", json={**halt, "state": "halted"}, headers=admin)
    await oms.settle()  # the halt cancels the two resting orders
    rebuilt = await http.post(path, headers=admin)
    assert rebuilt.status_code == 200
    assert rebuilt.json() == {
        "account_id": account_id,
        "open_orders": 0,
        "open_notional": "0",
        "day": rebuilt.json()["day"],
        "day_orders": 2,
    }
    await http.post("/api/admin/trading-state", json={**halt, "state": "active"}, headers=admin)
    assert (await http.post("/api/orders", json=buy(1), headers=headers)).status_code == 202
