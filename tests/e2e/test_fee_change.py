"""An instrument's fee change through the admin API reaches the running matcher: over real
HTTP on the local run, a fill before the change carries the old taker fee, one after it the
new one (the book kept the old fee until a restart before)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from tests.e2e.support import Account, LocalOms

SYMBOL = "FEES"


async def trade(oms: LocalOms, maker: Account, taker: Account) -> dict[str, Any]:
    """The taker's execution of a 10 x 100.00 trade."""
    await oms.place(maker, SYMBOL, "sell", "10", "100.00")
    taken = await oms.place(taker, SYMBOL, "buy", "10", "100.00")
    for _ in range(200):
        reply = await oms.http.get(
            "/api/executions", params={"symbol": SYMBOL}, headers=taker.headers
        )
        mine = [e for e in reply.json()["items"] if e["order_id"] == taken["order_id"]]
        if mine:
            execution: dict[str, Any] = mine[0]
            return execution
        await asyncio.sleep(0.05)
    raise AssertionError("the trade was not reported")


async def test_a_fill_after_a_fee_change_carries_the_new_fee(local_oms: LocalOms) -> None:
    admin = {"X-API-Key": local_oms.keys.admin}
    made = await local_oms.http.post(
        "/api/admin/instruments",
        json={
            "symbol": SYMBOL,
            "tick_size": "0.01",
            "lot_size": "1",
            "reference_price": "100",
            "taker_fee_cbps": 100,
        },
        headers=admin,
    )
    assert made.status_code == 201, made.text
    maker = await local_oms.new_account("e2e-fees-maker")
    taker = await local_oms.new_account("e2e-fees-taker")

    before = await trade(local_oms, maker, taker)
    changed = await local_oms.http.patch(
        f"/api/admin/instruments/{SYMBOL}", json={"taker_fee_cbps": 500}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    after = await trade(local_oms, maker, taker)

    # 10 x 100.00 = 1,000.00 of notional: 100 hundredths of a bp is 0.10, 500 is 0.50.
    assert (Decimal(before["fee"]), Decimal(after["fee"])) == (Decimal("0.1"), Decimal("0.5"))
