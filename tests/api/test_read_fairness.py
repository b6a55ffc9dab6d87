"""One client's page reads cannot take the service from the others (over real HTTP)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from shared.services import read_gate
from tests.support.oms import Oms, serve

BUY = {"symbol": "ABC", "side": "buy", "type": "limit", "quantity": "1", "limit_price": "99"}


class SlowStoreReads:
    """Wraps the order store's page read: each takes a while (a remote store, a big page)
    and the wrapper counts how many of each account run at once."""

    def __init__(self, oms: Oms) -> None:
        self.orders = oms.container.store.orders
        self.inner = self.orders.list_orders
        self.running: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.most_total = 0

    async def __call__(self, account_id: str, **kwargs: Any) -> Any:
        self.running[account_id] += 1
        self.most[account_id] = max(self.most[account_id], self.running[account_id])
        self.most_total = max(self.most_total, sum(self.running.values()))
        try:
            await asyncio.sleep(0.01)
            return await self.inner(account_id, **kwargs)
        finally:
            self.running[account_id] -= 1


@pytest.fixture
async def http(oms: Oms) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with (
        serve(oms.app) as url,
        httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client,
    ):
        yield client


async def test_one_accounts_hundred_page_reads_leave_room_for_everyone_else(
    oms: Oms, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
):
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, heavy = await oms.add_account("heavy")
    others = [(await oms.add_account(f"other-{n}"))[1] for n in range(12)]
    for key in (heavy, *others):
        assert (await http.post("/api/orders", json=BUY, headers={"X-API-Key": key})).is_success
    slow = SlowStoreReads(oms)
    monkeypatch.setattr(oms.container.store.orders, "list_orders", slow)

    async def page(key: str) -> httpx.Response:
        return await http.get("/api/orders", params={"limit": 500}, headers={"X-API-Key": key})

    heavy_reads = [asyncio.create_task(page(heavy)) for _ in range(100)]
    await asyncio.sleep(0.05)  # the heavy reads are in
    others_reads = await asyncio.gather(*(page(key) for key in others))
    health = await http.get("/api/health")
    placed = await http.post("/api/orders", json=BUY, headers={"X-API-Key": others[0]})
    heavy_replies = await asyncio.gather(*heavy_reads)

    # Everyone else is served in full, while the heavy account waits its turn.
    assert [reply.status_code for reply in others_reads] == [200] * len(others)
    assert (health.status_code, placed.status_code) == (200, 202)
    heavy_account = next(a for a in slow.most if slow.most[a] == max(slow.most.values()))
    assert slow.most[heavy_account] <= read_gate.PER_ACCOUNT
    assert slow.most_total <= read_gate.TOTAL
    # The heavy account's reads that fit (running + waiting) are answered, the rest refused
    # at once with a reason and a time to come back.
    statuses = Counter(reply.status_code for reply in heavy_replies)
    assert statuses[200] >= read_gate.PER_ACCOUNT + read_gate.WAITING_PER_ACCOUNT
    assert statuses[200] + statuses[429] == 100
    refused = [reply for reply in heavy_replies if reply.status_code == 429]
    assert refused and all(reply.headers["retry-after"] == "1" for reply in refused)
    assert {reply.json()["reason"] for reply in refused} == {"READ_LIMIT_EXCEEDED"}
    # Once answered, the account reads again as before.
    assert (await page(heavy)).status_code == 200
